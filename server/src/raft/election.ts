import type { BugSwitches } from './bugs.js';
import { quorumSize } from './conf.js';
import type { RaftLog } from './raft-log.js';
import type { GroupId, ReplicaId, VoteMessage, VoteResponseMessage } from './types.js';

/** Where a round of (pre-)votes stands, counted in the current configuration. */
export type VoteOutcome = 'won' | 'lost' | 'open';

/** The answers of one round of (pre-)votes, the replica's own included once it counts. */
export class VoteTally {
  private readonly votes = new Map<ReplicaId, boolean>();

  record(from: ReplicaId, granted: boolean): void {
    this.votes.set(from, granted);
  }

  has(from: ReplicaId): boolean {
    return this.votes.has(from);
  }

  clear(): void {
    this.votes.clear();
  }

  /** Won once a quorum of `voters` granted; lost once too many refused for a quorum to remain. */
  outcome(voters: readonly ReplicaId[]): VoteOutcome {
    const q = quorumSize(voters.length);
    let granted = 0;
    let rejected = 0;
    for (const v of voters) {
      const vote = this.votes.get(v);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    if (granted >= q) return 'won';
    if (voters.length - rejected < q) return 'lost';
    return 'open';
  }
}

/** What a replica's answer to a vote request depends on. */
export interface VoterState {
  readonly term: number;
  readonly vote: ReplicaId | null;
  readonly lead: ReplicaId | null;
}

/** Whether to grant `m` (the term has already been settled: `m.term` is ours, or above it for a pre-vote). */
export function grantsVote(m: VoteMessage, voter: VoterState, log: RaftLog, bugs: BugSwitches): boolean {
  // An uninitialized replica (created empty, waiting for its first snapshot) may stand in for a
  // node whose old replica was removed and wiped; in a stale configuration it would count as
  // that voter without holding its log. It votes once the leader has initialized it.
  if (log.lastIndex() === 0) return false;
  const canVote =
    voter.vote === m.from ||
    (voter.vote === null && voter.lead === null) ||
    (m.type === 'pre_vote' && m.term > voter.term);
  return canVote && (bugs.vote_without_log_check || log.isUpToDate(m.log_index, m.log_term));
}

/** The requests of one round, one per other voter, carrying our last entry for the up-to-date check. */
export function voteRequests(
  from: ReplicaId,
  group: GroupId,
  voters: readonly ReplicaId[],
  round: { readonly type: 'vote' | 'pre_vote'; readonly term: number; readonly transfer: boolean },
  log: RaftLog,
): VoteMessage[] {
  return voters
    .filter((v) => v !== from)
    .map((to) => ({
      type: round.type,
      group,
      from,
      to,
      term: round.term,
      log_index: log.lastIndex(),
      log_term: log.lastTerm(),
      transfer: round.transfer,
    }));
}

export function voteResponse(
  m: VoteMessage,
  from: ReplicaId,
  term: number,
  reject: boolean,
): VoteResponseMessage {
  return {
    type: m.type === 'vote' ? 'vote_resp' : 'pre_vote_resp',
    group: m.group,
    from,
    to: m.from,
    // A granted pre-vote echoes the hypothetical term; everything else carries ours.
    term: reject ? term : m.term,
    reject,
  };
}
