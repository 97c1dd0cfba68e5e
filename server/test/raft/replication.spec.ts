import { describe, expect, it } from 'vitest';
import type { PersistedState } from '../../src/raft/replica-init.js';
import type { AppendMessage, AppendResponseMessage, Entry, Message } from '../../src/raft/types.js';
import { bytes, Harness, text } from './harness.js';

const conf3 = { voters: ['a', 'b', 'c'], learners: [] };
const run = (from: number, to: number, term: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    index: from + i,
    term,
    type: 'normal' as const,
    data: bytes(`${from + i}@${term}`),
  }));
const state = (term: number, entries: Entry[]): PersistedState => ({
  hard_state: { term, vote: null, commit: 1 },
  snapshot: { meta: { index: 1, term: 1, conf: conf3, checksum: 0 }, data: new Uint8Array(0) },
  entries,
});
const apps = (msgs: readonly Message[], to: string) =>
  msgs.filter((m): m is AppendMessage => m.type === 'app' && m.to === to);

describe('log replication', () => {
  it('replication – proposals reach every replica, commit, and apply in order', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    for (const s of ['x', 'y', 'z']) expect(h.node('a').propose(bytes(s)).ok).toBe(true);
    h.stabilize();
    h.tickAll(2);
    for (const id of h.ids) {
      const data = h.applied
        .get(id)!
        .filter((e) => e.data.length > 0)
        .map((e) => text(e.data));
      expect(data).toEqual(['x', 'y', 'z']);
    }
  });

  it('replication – proposals of one turn share one append message per follower', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const a = h.node('a');
    for (let i = 0; i < 10; i++) a.propose(bytes(`p${i}`));
    const r = h.turn('a')!;
    const toB = apps(r.messages, 'b');
    expect(toB).toHaveLength(1);
    expect(toB[0]!.entries).toHaveLength(10);
  });

  it('fast backtracking – a follower hints its conflicting term, and the leader skips that term in one step', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { max_append_entries: 100 } });
    // b holds a long tail of term 3 that the new leader a (log up to term 4) never had.
    h.start('a', state(5, [...run(2, 3, 2), ...run(4, 6, 4)]));
    h.start('b', state(5, [...run(2, 3, 2), ...run(4, 40, 3)]));
    h.start('c', state(5, [...run(2, 3, 2), ...run(4, 6, 4)]));
    h.isolate('b');
    expect(h.elect('a')).toBe(true);
    h.heal();
    const rejects: AppendResponseMessage[] = [];
    for (let i = 0; i < 10; i++) {
      h.tickAll(1);
      for (const r of h.readies.get('b')!) {
        for (const m of r.messages) if (m.type === 'app_resp' && m.reject) rejects.push(m);
      }
      h.readies.set('b', []);
    }
    // Without hints this takes one round trip per entry (~35); with them, a couple.
    expect(rejects.length).toBeGreaterThan(0);
    expect(rejects.length).toBeLessThanOrEqual(3);
    expect(rejects[0]).toMatchObject({ hint_term: 3, hint_index: 4 });
    expect(h.node('b').log.lastIndex()).toBe(h.node('a').log.lastIndex());
    expect(h.node('b').termAt(6)).toBe(4);
  });

  it('flow control – at most max_inflight_msgs appends are in flight to a follower', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { max_inflight_msgs: 3, max_append_entries: 1 } });
    h.elect('a');
    const a = h.node('a');
    h.cutLink('b', 'a');
    h.cutLink('c', 'a');
    for (let i = 0; i < 20; i++) {
      a.propose(bytes(`p${i}`));
      h.turn('a');
    }
    const sent = apps(h.take(), 'b').filter((m) => m.entries.length > 0);
    expect(sent.length).toBe(3);
  });

  it('flow control – append messages stay within max_append_bytes (but carry at least one entry)', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { max_append_bytes: 100, max_append_entries: 1000 } });
    h.elect('a');
    h.isolate('b');
    const a = h.node('a');
    for (let i = 0; i < 20; i++) a.propose(new Uint8Array(30));
    a.propose(new Uint8Array(500));
    h.stabilize();
    h.heal();
    h.readies.set('a', []);
    h.tickAll(5);
    const toB = apps(h.sent('a'), 'b').filter((m) => m.entries.length > 0);
    for (const m of toB) {
      const size = m.entries.reduce((n, e) => n + e.data.length, 0);
      expect(m.entries.length === 1 || size <= 100).toBe(true);
    }
    expect(h.node('b').log.lastIndex()).toBe(a.log.lastIndex());
  });

  it('limits – proposals are refused with typed errors when too large or when too much is uncommitted', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { max_uncommitted_bytes: 100, max_entry_bytes: 60 } });
    h.elect('a');
    const a = h.node('a');
    const big = a.propose(new Uint8Array(61));
    expect(!big.ok && big.error.code).toBe('entry_too_large');
    h.isolate('a');
    expect(a.propose(new Uint8Array(60)).ok).toBe(true);
    const over = a.propose(new Uint8Array(60));
    expect(!over.ok && over.error.code).toBe('uncommitted_limit');
    h.heal();
    h.tickAll(3);
    // Committing frees the budget.
    expect(a.propose(new Uint8Array(60)).ok).toBe(true);
  });

  it('proposals – a follower refuses with not_leader and names the leader', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const r = h.node('b').propose(bytes('x'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ code: 'not_leader', leader: 'a' });
  });

  it('durability – a follower acknowledges only what its storage reported durable', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    h.autoPersist = false;
    h.node('a').propose(bytes('x'));
    h.turn('a');
    for (const m of h.take()) h.deliver(m);
    const r = h.turn('b')!;
    expect(r.entries).toHaveLength(1);
    expect(r.messages.filter((m) => m.type === 'app_resp')).toHaveLength(0);
    h.persist('b');
    const after = h.turn('b')!;
    expect(after.messages.filter((m) => m.type === 'app_resp' && !m.reject)).toHaveLength(1);
  });
});
