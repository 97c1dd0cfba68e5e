import { describe, expect, it } from 'vitest';
import type { HeartbeatMessage } from '../../src/raft/types.js';
import { bytes, Harness } from './harness.js';

describe('ReadIndex', () => {
  it('read index – the leader answers only after a quorum confirms its leadership, at its commit index', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const a = h.node('a');
    expect(a.readIndex('r1').ok).toBe(true);
    const first = h.turn('a')!;
    expect(first.read_states).toHaveLength(0);
    const rounds = first.messages.filter((m): m is HeartbeatMessage => m.type === 'heartbeat' && m.ctx > 0);
    expect(rounds).toHaveLength(2);
    h.stabilize();
    expect(h.reads.get('a')).toEqual([{ ctx: 'r1', index: a.committed }]);
  });

  it('read index – a leader cut off from its quorum never answers', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    h.isolate('a');
    h.node('a').readIndex('r1');
    h.stabilize();
    expect(h.reads.get('a')).toHaveLength(0);
  });

  it('read index – reads of one turn share a single heartbeat round', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const a = h.node('a');
    for (let i = 0; i < 5; i++) a.readIndex(`r${i}`);
    const r = h.turn('a')!;
    const toB = r.messages.filter((m) => m.type === 'heartbeat' && m.to === 'b' && m.ctx > 0);
    expect(toB).toHaveLength(1);
    h.stabilize();
    expect(h.reads.get('a')!.map((s) => s.ctx)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('read index – a new leader serves reads only after committing an entry of its term', () => {
    const h = new Harness(['a', 'b', 'c']);
    const a = h.node('a');
    a.campaign();
    for (let i = 0; i < 20 && a.role !== 'leader'; i++) {
      for (const id of h.ids) h.turn(id);
      for (const m of h.take()) h.deliver(m);
    }
    expect(a.role).toBe('leader');
    const termStart = a.log.lastIndex();
    expect(a.committed).toBeLessThan(termStart);
    expect(a.readIndex('early').ok).toBe(true);
    h.stabilize();
    const reads = h.reads.get('a')!;
    expect(reads).toHaveLength(1);
    expect(reads[0]!.index).toBeGreaterThanOrEqual(termStart);
  });

  it('read index – a follower forwards the read and serves it once it has applied the index', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    h.node('a').propose(bytes('w'));
    h.stabilize();
    expect(h.node('b').readIndex('fr').ok).toBe(true);
    h.stabilize();
    const reads = h.reads.get('b')!;
    expect(reads).toHaveLength(1);
    expect(reads[0]!.ctx).toBe('fr');
    expect(h.node('b').applied).toBeGreaterThanOrEqual(reads[0]!.index);
    expect(reads[0]!.index).toBe(h.node('a').committed);
  });

  it('read index – without a known leader a follower refuses with a typed error', () => {
    const h = new Harness(['a', 'b', 'c']);
    const r = h.node('b').readIndex('x');
    expect(!r.ok && r.error.code).toBe('not_leader');
  });

  it('read index – the queue is bounded', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { max_read_index_queue: 2 } });
    h.elect('a');
    h.isolate('a');
    const a = h.node('a');
    expect(a.readIndex('1').ok).toBe(true);
    expect(a.readIndex('2').ok).toBe(true);
    const third = a.readIndex('3');
    expect(!third.ok && third.error.code).toBe('read_index_queue_full');
  });

  it('read index – a single-voter group answers without any message', () => {
    const h = new Harness(['a']);
    h.elect('a');
    h.node('a').readIndex('solo');
    const r = h.turn('a')!;
    expect(r.messages).toHaveLength(0);
    expect(r.read_states).toEqual([{ ctx: 'solo', index: h.node('a').committed }]);
  });
});
