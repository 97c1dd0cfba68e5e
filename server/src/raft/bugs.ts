/**
 * Deliberately broken behaviours, for proving that the simulator's checkers
 * catch real consensus and storage bugs. The switch set is branded with a
 * symbol that is not exported from the package entry point and cannot be
 * produced by parsing any configuration, so production code cannot turn a bug
 * on by accident. The storage bugs live in the write-ahead log, which reads
 * the same switch set.
 */
const BUGS_BRAND: unique symbol = Symbol('raft.bugs');

export const BUG_NAMES = [
  /** Commit by counting replicas of entries from earlier terms (Raft paper, Figure 8). */
  'commit_old_term',
  /** Vote from volatile state: the vote is never persisted and grants go out at once. */
  'vote_not_persisted',
  /** Acknowledge appends (and count the leader's own log) before they are durable. */
  'ack_before_durable',
  /** The leader commits (and so acknowledges) entries once its own log has them, without a quorum. */
  'commit_without_quorum',
  /** Hand entries to the state machine before they are committed. */
  'apply_uncommitted',
  /** Grant a vote without checking that the candidate's log is at least as up to date. */
  'vote_without_log_check',
  /** Heartbeats carry the leader's whole commit index instead of min(match, commit). */
  'heartbeat_full_commit',
  /**
   * A follower takes the leader's commit index from an append up to its own last entry, past the last
   * entry the append proved it shares with the leader (here also when the append does not match at all).
   */
  'follower_commit_past_new',
  /** A leader accepts a membership change while another one is still uncommitted. */
  'concurrent_conf_changes',
  /**
   * Acknowledgements are matched by index alone, ignoring the term: durable writes and followers' acks
   * in the core, and the driver answering a proposal with whatever entry applied at its index.
   */
  'ack_matched_by_index',
  /** A leader serves ReadIndex reads without confirming its leadership with a quorum round. */
  'read_without_quorum',
  /** A new leader serves ReadIndex reads before it has committed an entry of its own term. */
  'read_before_term_commit',
  /** WAL recovery cuts the log at the first bad frame even when valid frames follow it. */
  'wal_truncates_valid_frames',
  /** The WAL acknowledges a write that the disk only partly took (a short write). */
  'wal_acks_short_write',
] as const;

export type BugName = (typeof BUG_NAMES)[number];

export type BugSwitches = { readonly [BUGS_BRAND]: true } & { readonly [K in BugName]: boolean };

/** Test-only: a switch set with the named bugs enabled. */
export function bugsForTesting(names: readonly BugName[]): BugSwitches {
  const switches = { [BUGS_BRAND]: true as const } as Record<BugName, boolean> & { [BUGS_BRAND]: true };
  for (const name of BUG_NAMES) switches[name] = names.includes(name);
  return Object.freeze(switches);
}

export const NO_BUGS: BugSwitches = bugsForTesting([]);

export function isBugSwitches(value: unknown): value is BugSwitches {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BUGS_BRAND] === true
  );
}
