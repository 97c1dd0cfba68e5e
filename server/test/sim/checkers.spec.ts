import { describe, expect, it } from 'vitest';
import type { Entry, SnapshotMeta } from '../../src/raft/types.js';
import { type LogView, SafetyChecker, StateDigests, Violation } from '../../src/sim/checkers.js';
import { SimStateMachine } from '../../src/sim/state-machine.js';

const e = (index: number, term: number, data = `${index}@${term}`): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(data),
});

function view(entries: Entry[], offset = 0, snapTerm = 0): LogView {
  return {
    termAt: (i) => (i === offset ? snapTerm : entries.find((x) => x.index === i)?.term),
    entryAt: (i) => entries.find((x) => x.index === i),
    log: {
      offset,
      snapshot: { meta: { index: offset, term: snapTerm, conf: { voters: [], learners: [] }, checksum: 0 } },
    },
  };
}

const caught = (f: () => void) => {
  try {
    f();
  } catch (err) {
    if (err instanceof Violation) return err.checker;
    throw err;
  }
  return null;
};

describe('SafetyChecker', () => {
  it('election safety – two leaders in one term are caught', () => {
    const c = new SafetyChecker();
    c.leaderElected(0, 'a', 3, view([]));
    expect(caught(() => c.leaderElected(0, 'b', 3, view([])))).toBe('election_safety');
    expect(caught(() => c.leaderElected(1, 'b', 3, view([])))).toBeNull();
  });

  it('log matching – the same (index, term) with different contents or predecessors is caught', () => {
    const c = new SafetyChecker();
    c.entriesAppended(0, 'a', [e(1, 1), e(2, 2)], view([e(1, 1), e(2, 2)]));
    expect(
      caught(() => c.entriesAppended(0, 'b', [e(2, 2, 'other')], view([e(1, 1), e(2, 2, 'other')]))),
    ).toBe('log_matching');
    expect(caught(() => c.entriesAppended(0, 'c', [e(2, 2)], view([e(1, 9), e(2, 2)])))).toBe('log_matching');
  });

  it('leader completeness – a leader of a later term missing a committed entry is caught', () => {
    const c = new SafetyChecker();
    c.committed(0, 'a', 2, 2, view([e(1, 1), e(2, 2)]));
    expect(caught(() => c.leaderElected(0, 'b', 2, view([e(1, 1)])))).toBeNull();
    expect(caught(() => c.leaderElected(0, 'c', 3, view([e(1, 1), e(2, 3)])))).toBe('leader_completeness');
  });

  it('state machine safety – different entries applied or committed at one index are caught', () => {
    const c = new SafetyChecker();
    c.applied(0, 'a', e(1, 1));
    expect(caught(() => c.applied(0, 'b', e(1, 2)))).toBe('state_machine_safety');
    const d = new SafetyChecker();
    d.committed(0, 'a', 1, 1, view([e(1, 1)]));
    expect(caught(() => d.committed(0, 'b', 1, 2, view([e(1, 2)])))).toBe('state_machine_safety');
  });

  it('monotonic – commit going backwards and applying out of order are caught', () => {
    const c = new SafetyChecker();
    c.committed(0, 'a', 2, 1, view([e(1, 1), e(2, 1)]));
    expect(caught(() => c.committed(0, 'a', 1, 1, view([e(1, 1), e(2, 1)])))).toBe('commit_monotonic');
    expect(caught(() => c.applied(0, 'a', e(2, 1)))).toBe('commit_monotonic');
    expect(caught(() => c.replicaStarted(0, 'a', 1, 0, 2))).toBe('commit_monotonic');
  });

  it('pitfall – applied index is saved atomically with the state it describes', () => {
    const sm = new SimStateMachine();
    sm.advance(1);
    sm.apply(new TextEncoder().encode('["op","put","k","v"]'));
    sm.advance(2);
    const restored = new SimStateMachine();
    restored.restore(sm.snapshot());
    expect(restored.applied).toBe(2);
    expect(restored.kv.get('k')).toBe('v');
    expect(restored.digest()).toBe(sm.digest());
    const c = new SafetyChecker();
    const meta = (index: number): SnapshotMeta => ({
      index,
      term: 1,
      conf: { voters: [], learners: [] },
      checksum: 0,
    });
    expect(caught(() => c.snapshotInstalled(0, 'a', meta(2), restored.applied))).toBeNull();
    // A snapshot labelled with an index its state does not describe is caught.
    expect(caught(() => c.snapshotInstalled(0, 'b', meta(3), restored.applied))).toBe('snapshot_atomicity');
  });
});

describe('state digests', () => {
  it('digests – replicas holding different states at the same applied index are caught', () => {
    const a = new SimStateMachine();
    const b = new SimStateMachine();
    a.apply(new TextEncoder().encode('["x","put","k","1"]'));
    b.apply(new TextEncoder().encode('["y","put","k","2"]'));
    const d = new StateDigests();
    d.record(0, 5, a.digest(), 'a');
    expect(caught(() => d.record(0, 5, a.digest(), 'c'))).toBeNull();
    expect(caught(() => d.record(0, 5, b.digest(), 'b'))).toBe('state_digest');
  });

  it('digests – the digest kept while applying equals the one recomputed after a restore', () => {
    const sm = new SimStateMachine();
    for (const [id, kind, key, value] of [
      ['o1', 'put', 'k', 'a'],
      ['o2', 'append', '', ''],
      ['o3', 'put', 'k', 'b'],
      ['o1', 'put', 'k', 'a'],
    ]) {
      sm.apply(new TextEncoder().encode(JSON.stringify([id, kind, key, value])));
    }
    const restored = new SimStateMachine();
    restored.restore(sm.snapshot());
    expect(restored.digest()).toBe(sm.digest());
  });
});
