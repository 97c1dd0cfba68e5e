import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

describe('leader election', () => {
  it('election – a follower campaigns after a randomized timeout in [election_ticks, 2 × election_ticks)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const h = new Harness(['a', 'b', 'c'], { seed });
      const a = h.node('a');
      let ticks = 0;
      while (a.role === 'follower' && ticks < 100) {
        a.tick();
        ticks++;
      }
      expect(a.role).toBe('pre_candidate');
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
    }
  });

  it('election – one leader wins and appends an empty entry of its own term, which commits', () => {
    const h = new Harness(['a', 'b', 'c']);
    expect(h.elect('a')).toBe(true);
    const a = h.node('a');
    const last = a.entryAt(a.log.lastIndex())!;
    expect(last.term).toBe(a.term);
    expect(last.data.length).toBe(0);
    expect(a.committed).toBe(last.index);
    for (const id of ['b', 'c']) {
      expect(h.node(id).role).toBe('follower');
      expect(h.node(id).lead).toBe('a');
    }
  });

  it('election – a voter refuses a candidate whose log is behind its own', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    h.isolate('c');
    h.node('a').propose(new Uint8Array([1]));
    h.stabilize();
    h.heal();
    // c missed an entry: even with a's blessing gone, b will not elect it.
    h.isolate('a');
    h.node('c').campaign();
    h.stabilize();
    expect(h.node('c').role).not.toBe('leader');
  });

  it('pre-vote – a partitioned node does not inflate its term, so healing does not depose the leader', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const term = h.node('a').term;
    h.isolate('c');
    for (let i = 0; i < 100; i++) {
      h.node('c').tick();
      h.stabilize();
    }
    expect(h.node('c').term).toBe(term);
    h.heal();
    h.tickAll(5);
    expect(h.node('a').role).toBe('leader');
    expect(h.node('a').term).toBe(term);
  });

  it('check-quorum – a leader that hears from no quorum for an election timeout steps down', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    h.isolate('a');
    for (let i = 0; i < 25 && h.node('a').role === 'leader'; i++) {
      h.node('a').tick();
      h.stabilize();
    }
    expect(h.node('a').role).toBe('follower');
  });

  it('check-quorum – a leader cut off right after its election steps down within one election timeout', () => {
    // Regression: peers started out "recently active", so such a leader survived two timeouts.
    const h = new Harness(['a', 'b', 'c']);
    h.node('a').campaign();
    // Deliver one message at a time and cut `a` off the moment it wins: no answer reaches it as leader.
    for (let round = 0; round < 20 && h.node('a').role !== 'leader'; round++) {
      for (const id of h.ids) h.turn(id);
      for (const m of h.take()) {
        if (h.node('a').role !== 'leader') h.deliver(m);
      }
    }
    expect(h.node('a').role).toBe('leader');
    h.isolate('a');
    for (let i = 0; i < h.config.election_ticks; i++) {
      h.node('a').tick();
      h.stabilize();
    }
    expect(h.node('a').role).toBe('follower');
  });

  it('check-quorum – a leader with a live quorum stays leader', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    h.isolate('c');
    h.tickAll(40);
    expect(h.node('a').role).toBe('leader');
  });

  it('leader stickiness – followers that hear a live leader ignore a disruptive campaign', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const term = h.node('a').term;
    h.node('c').campaign();
    h.stabilize();
    expect(h.node('a').role).toBe('leader');
    expect(h.node('b').term).toBe(term);
  });

  it('election – a crashed leader is replaced by one of the others', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    h.crash('a');
    for (let i = 0; i < 50 && !h.leader(); i++) h.tickAll(1);
    const leader = h.leader();
    expect(leader).toBeDefined();
    expect(leader!.id).not.toBe('a');
  });
});
