import { describe, expect, it } from 'vitest';
import { bugsForTesting } from '../../src/raft/bugs.js';
import type { PersistedState } from '../../src/raft/replica-init.js';
import type { AppendMessage, Entry, HardState, Message, VoteMessage } from '../../src/raft/types.js';
import { bytes, GROUP, Harness } from './harness.js';

const conf5 = { voters: ['s1', 's2', 's3', 's4', 's5'], learners: [] };
const entry = (index: number, term: number, data = `e${index}@${term}`): Entry => ({
  index,
  term,
  type: 'normal',
  data: bytes(data),
});
const stateWith = (hard: HardState, entries: Entry[], conf = conf5): PersistedState => ({
  hard_state: hard,
  snapshot: { meta: { index: 1, term: 1, conf, checksum: 0 }, data: new Uint8Array(0) },
  entries,
});

const voteFrom = (from: string, to: string, term: number): VoteMessage => ({
  type: 'vote',
  group: GROUP,
  from,
  to,
  term,
  log_index: 1,
  log_term: 1,
  transfer: false,
});

const appendFrom = (from: string, to: string, term: number, entries: Entry[], commit = 1): AppendMessage => ({
  type: 'app',
  group: GROUP,
  from,
  to,
  term,
  log_index: entries[0]!.index - 1,
  log_term: 1,
  entries,
  commit,
});

const grants = (msgs: readonly Message[], to: string) =>
  msgs.filter((m) => m.type === 'vote_resp' && !m.reject && m.to === to);

describe('pitfalls', () => {
  it('pitfall – term and vote are persisted atomically before any reply (no double vote after a crash)', () => {
    const h = new Harness(['a', 'b', 'c'], { autoPersist: false });
    const b = h.node('b');
    b.step(voteFrom('a', 'b', 2));
    const r1 = h.turn('b')!;
    // One hard-state record carries both the new term and the vote...
    expect(r1.hard_state).toEqual({ term: 2, vote: 'a', commit: 1 });
    // ...and the grant is withheld until that record is durable.
    expect(grants(r1.messages, 'a')).toHaveLength(0);

    // A crash before the write is durable loses the vote, but nobody ever saw it.
    h.crash('b');
    const b2 = h.restart('b');
    expect(b2.term).toBe(1);
    expect(b2.vote).toBeNull();

    // Once durable, the grant goes out, and a restart remembers the vote.
    b2.step(voteFrom('a', 'b', 2));
    h.turn('b');
    h.persist('b');
    expect(grants(h.turn('b')!.messages, 'a')).toHaveLength(1);
    h.crash('b');
    const b3 = h.restart('b');
    expect(b3.term).toBe(2);
    expect(b3.vote).toBe('a');
    b3.step(voteFrom('c', 'b', 2));
    h.turn('b');
    h.persist('b');
    const after = h.turn('b');
    expect(grants(after?.messages ?? [], 'c')).toHaveLength(0);
  });

  it('pitfall – a single-voter group persists an entry before it counts it committed (etcd#14370)', () => {
    const h = new Harness(['a'], { autoPersist: false });
    const a = h.node('a');
    a.campaign();
    h.turn('a');
    // The self-vote is not durable yet, so it does not count.
    expect(a.role).toBe('candidate');
    h.persist('a');
    expect(a.role).toBe('leader');
    const r = h.turn('a')!;
    expect(r.entries).toHaveLength(1);
    expect(a.committed).toBe(1);
    const p = a.propose(bytes('x'));
    expect(p.ok).toBe(true);
    h.turn('a');
    expect(a.committed).toBe(1);
    expect(h.applied.get('a')).toHaveLength(0);
    h.persist('a');
    expect(a.committed).toBe(3);
    h.turn('a');
    expect(h.applied.get('a')!.map((e) => e.index)).toEqual([2, 3]);
  });

  it('pitfall – an append acknowledgement is matched by (term, index): an old write cannot ack a newer entry (ABA)', () => {
    const h = new Harness(['a', 'b', 'c'], { autoPersist: false });
    const b = h.node('b');
    // Leader a (term 2) sends 2@2; the write W1 is slow.
    b.step(appendFrom('a', 'b', 2, [entry(2, 2)]));
    h.turn('b');
    // Leader c (term 3) replaces index 2 with 2@3; write W2 queued behind W1.
    b.step(appendFrom('c', 'b', 3, [entry(2, 3)]));
    h.turn('b');
    expect(b.termAt(2)).toBe(3);
    // W1 completes: it made 2@2 durable, which says nothing about 2@3.
    h.persistOne('b');
    const r = h.turn('b');
    const toC = (r?.messages ?? []).filter((m) => m.type === 'app_resp' && m.to === 'c');
    expect(toC).toHaveLength(0);
    expect(b.status().stable).toBe(1);
    // W2 completes: now the acknowledgement of 2@3 goes out, carrying its term.
    h.persistOne('b');
    const ack = h.turn('b')!.messages.find((m) => m.type === 'app_resp' && m.to === 'c');
    expect(ack).toMatchObject({ index: 2, log_term: 3, reject: false, term: 3 });
  });

  it('pitfall – a leader ignores an acknowledgement for a different entry at the same index', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const a = h.node('a');
    h.isolate('a');
    a.propose(bytes('x'));
    h.stabilize();
    const index = a.log.lastIndex();
    const match = a.status().progress!.b!.match;
    a.step({
      type: 'app_resp',
      group: GROUP,
      from: 'b',
      to: 'a',
      term: a.term,
      index,
      log_term: a.term - 1,
      reject: false,
      hint_index: 0,
      hint_term: 0,
    });
    expect(a.status().progress!.b!.match).toBe(match);
  });

  it('pitfall – a leader commits an entry of its own term before it starts a membership change', () => {
    const h = new Harness(['a', 'b', 'c']);
    const a = h.node('a');
    a.campaign();
    for (let i = 0; i < 20 && a.role !== 'leader'; i++) {
      for (const id of h.ids) h.turn(id);
      for (const m of h.take()) h.deliver(m);
    }
    expect(a.role).toBe('leader');
    // Its empty entry is not committed yet: cut it off so it stays that way.
    h.isolate('a');
    h.stabilize();
    const early = a.proposeConfChange({ type: 'add_learner', node: 'd' });
    expect(early.ok).toBe(false);
    expect(!early.ok && early.error.code).toBe('not_committed_in_term');
    h.heal();
    h.tickAll(2);
    expect(a.committed).toBe(a.log.lastIndex());
    expect(a.proposeConfChange({ type: 'add_learner', node: 'd' }).ok).toBe(true);
    // Only one change at a time.
    const second = a.proposeConfChange({ type: 'add_learner', node: 'e' });
    expect(!second.ok && second.error.code).toBe('conf_change_pending');
  });

  const figure8 = (bugs: boolean) => {
    // Raft paper, Figure 8: s1 (term 4) holds 2@2, s5 holds a conflicting 2@3.
    const h = new Harness(['s1', 's2', 's3', 's4', 's5'], {
      config: { max_append_entries: 1, max_inflight_msgs: 1 },
      ...(bugs && { bugs: bugsForTesting(['commit_old_term']) }),
    });
    h.start('s1', stateWith({ term: 3, vote: null, commit: 1 }, [entry(2, 2)]));
    h.start('s2', stateWith({ term: 3, vote: null, commit: 1 }, [entry(2, 2)]));
    h.start('s3', stateWith({ term: 3, vote: null, commit: 1 }, []));
    h.start('s4', stateWith({ term: 3, vote: null, commit: 1 }, []));
    h.start('s5', stateWith({ term: 3, vote: 's5', commit: 1 }, [entry(2, 3)]));
    h.isolate('s5');
    h.cutLink('s1', 's2');
    const s1 = h.node('s1');
    s1.campaign();
    // s3 and s4 receive 2@2 and then 3@4, but s1 never learns they hold 3@4.
    const ackOfOwnTerm = (m: Message) => m.type === 'app_resp' && !m.reject && m.index >= 3;
    for (let i = 0; i < 50; i++) {
      for (const id of h.ids) h.turn(id);
      h.take(ackOfOwnTerm);
      for (const m of h.take()) h.deliver(m);
    }
    return h;
  };

  it('pitfall – the commit rule: an old-term entry on a majority is not committed by counting (Figure 8)', () => {
    const h = figure8(false);
    const s1 = h.node('s1');
    expect(s1.role).toBe('leader');
    expect(s1.term).toBe(4);
    const progress = s1.status().progress!;
    // s1 knows 2@2 is on s1, s3 and s4: a majority, yet s5 (holding 2@3) could still win and overwrite it.
    expect(progress.s3!.match).toBe(2);
    expect(progress.s4!.match).toBe(2);
    expect(s1.committed).toBe(1);
    // Once s1 learns an entry of term 4 is on the majority, both commit together.
    h.tickAll(10);
    expect(s1.committed).toBe(3);
  });

  it('pitfall – the commit rule bug switch really commits the old-term entry (the test above has teeth)', () => {
    const h = figure8(true);
    expect(h.node('s1').committed).toBe(2);
  });
});
