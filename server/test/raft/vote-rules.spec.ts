import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bugsForTesting, NO_BUGS } from '../../src/raft/bugs.js';
import { grantsVote, VoteTally, voteRequests, voteResponse } from '../../src/raft/election.js';
import { RaftLog } from '../../src/raft/raft-log.js';
import type { Entry, VoteMessage } from '../../src/raft/types.js';

const SNAPSHOT = {
  meta: { index: 0, term: 0, conf: { voters: ['a'], learners: [] }, checksum: 0 },
  data: new Uint8Array(0),
};

/** A log whose entries have these terms, at indexes 1, 2, … */
const logOf = (terms: readonly number[]): RaftLog =>
  new RaftLog(
    SNAPSHOT,
    terms.map((term, i): Entry => ({ index: i + 1, term, type: 'normal', data: new Uint8Array(0) })),
    0,
    0,
  );

const request = (over: Partial<VoteMessage> = {}): VoteMessage => ({
  type: 'vote',
  group: 0,
  from: 'b',
  to: 'a',
  term: 5,
  log_index: 3,
  log_term: 2,
  transfer: false,
  ...over,
});

describe('vote rules', () => {
  it('vote rules – a round is won exactly at a quorum of grants and lost once a quorum can no longer grant; non-voters do not count', () => {
    const voters = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: voters.length }),
        fc.array(fc.tuple(fc.constantFrom(...voters, 'x', 'y'), fc.boolean()), { maxLength: 12 }),
        (size, answers) => {
          const members = voters.slice(0, size);
          const tally = new VoteTally();
          const last = new Map<string, boolean>();
          for (const [from, granted] of answers) {
            tally.record(from, granted);
            last.set(from, granted);
          }
          const granted = members.filter((v) => last.get(v) === true).length;
          const refused = members.filter((v) => last.get(v) === false).length;
          const quorum = Math.floor(size / 2) + 1;
          const expected = granted >= quorum ? 'won' : size - refused < quorum ? 'lost' : 'open';
          expect(tally.outcome(members)).toBe(expected);
        },
      ),
      { seed: 14, numRuns: 500 },
    );
  });

  it('vote rules – the up-to-date check: a candidate whose last entry is older is refused, unless the bug switch skips the check', () => {
    const log = logOf([1, 2, 2]); // last entry (3, 2)
    const fresh = { term: 5, vote: null, lead: null };
    expect(grantsVote(request({ log_index: 3, log_term: 2 }), fresh, log, NO_BUGS)).toBe(true);
    expect(grantsVote(request({ log_index: 9, log_term: 1 }), fresh, log, NO_BUGS)).toBe(false);
    expect(grantsVote(request({ log_index: 2, log_term: 2 }), fresh, log, NO_BUGS)).toBe(false);
    expect(grantsVote(request({ log_index: 1, log_term: 3 }), fresh, log, NO_BUGS)).toBe(true);
    const buggy = bugsForTesting(['vote_without_log_check']);
    expect(grantsVote(request({ log_index: 9, log_term: 1 }), fresh, log, buggy)).toBe(true);
  });

  it('vote rules – one vote per term: granted again to the same candidate, refused to another, and not while a leader is known', () => {
    const log = logOf([1, 2, 2]);
    const votedB = { term: 5, vote: 'b', lead: null };
    expect(grantsVote(request({ from: 'b' }), votedB, log, NO_BUGS)).toBe(true);
    expect(grantsVote(request({ from: 'c' }), votedB, log, NO_BUGS)).toBe(false);
    expect(grantsVote(request({ from: 'c' }), { term: 5, vote: null, lead: 'd' }, log, NO_BUGS)).toBe(false);
  });

  it('vote rules – a pre-vote for a later term is answered on the log alone; one for our own term follows the vote rule', () => {
    const log = logOf([1, 2, 2]);
    const votedB = { term: 5, vote: 'b', lead: 'b' };
    expect(grantsVote(request({ type: 'pre_vote', from: 'c', term: 6 }), votedB, log, NO_BUGS)).toBe(true);
    expect(grantsVote(request({ type: 'pre_vote', from: 'c', term: 5 }), votedB, log, NO_BUGS)).toBe(false);
    expect(
      grantsVote(request({ type: 'pre_vote', from: 'c', term: 6, log_term: 1 }), votedB, log, NO_BUGS),
    ).toBe(false);
  });

  it('vote rules – an uninitialized replica (empty log, waiting for its first snapshot) grants nothing', () => {
    const empty = logOf([]);
    const fresh = { term: 0, vote: null, lead: null };
    expect(grantsVote(request({ log_index: 0, log_term: 0 }), fresh, empty, NO_BUGS)).toBe(false);
    expect(grantsVote(request({ type: 'pre_vote', log_index: 0, log_term: 0 }), fresh, empty, NO_BUGS)).toBe(
      false,
    );
    expect(
      grantsVote(
        request({ log_index: 0, log_term: 0 }),
        fresh,
        empty,
        bugsForTesting(['vote_without_log_check']),
      ),
    ).toBe(false);
  });

  it('vote rules – requests go to every other voter with our last entry; a granted pre-vote echoes its term, a refusal carries ours', () => {
    const log = logOf([1, 4]);
    const round = { type: 'pre_vote', term: 7, transfer: false } as const;
    const sent = voteRequests('a', 3, ['a', 'b', 'c'], round, log);
    expect(sent.map((m) => m.to)).toEqual(['b', 'c']);
    for (const m of sent)
      expect(m).toMatchObject({ type: 'pre_vote', group: 3, from: 'a', term: 7, log_index: 2, log_term: 4 });

    const m = request({ type: 'pre_vote', term: 7 });
    expect(voteResponse(m, 'a', 5, false)).toMatchObject({
      type: 'pre_vote_resp',
      to: 'b',
      term: 7,
      reject: false,
    });
    expect(voteResponse(m, 'a', 5, true)).toMatchObject({
      type: 'pre_vote_resp',
      to: 'b',
      term: 5,
      reject: true,
    });
    expect(voteResponse(request(), 'a', 5, false)).toMatchObject({
      type: 'vote_resp',
      term: 5,
      reject: false,
    });
  });
});
