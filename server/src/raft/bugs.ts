/**
 * Deliberately broken behaviours, for proving that the simulator's checkers
 * catch real Raft bugs. The switch set is branded with a symbol that is not
 * exported from the package entry point and cannot be produced by parsing any
 * configuration, so production code cannot turn a bug on by accident.
 */
const BUGS_BRAND: unique symbol = Symbol('raft.bugs');

export type BugName =
  /** Commit by counting replicas of entries from earlier terms (Raft paper, Figure 8). */
  | 'commit_old_term'
  /** Vote from volatile state: the vote is never persisted and grants go out at once. */
  | 'vote_not_persisted'
  /** Acknowledge appends (and count the leader's own log) before they are durable. */
  | 'ack_before_durable'
  /** Hand entries to the state machine before they are committed. */
  | 'apply_uncommitted';

export const BUG_NAMES: readonly BugName[] = [
  'commit_old_term',
  'vote_not_persisted',
  'ack_before_durable',
  'apply_uncommitted',
];

export interface BugSwitches {
  readonly [BUGS_BRAND]: true;
  readonly commit_old_term: boolean;
  readonly vote_not_persisted: boolean;
  readonly ack_before_durable: boolean;
  readonly apply_uncommitted: boolean;
}

export const NO_BUGS: BugSwitches = Object.freeze({
  [BUGS_BRAND]: true as const,
  commit_old_term: false,
  vote_not_persisted: false,
  ack_before_durable: false,
  apply_uncommitted: false,
});

/** Test-only: a switch set with the named bugs enabled. */
export function bugsForTesting(names: readonly BugName[]): BugSwitches {
  return Object.freeze({
    [BUGS_BRAND]: true as const,
    commit_old_term: names.includes('commit_old_term'),
    vote_not_persisted: names.includes('vote_not_persisted'),
    ack_before_durable: names.includes('ack_before_durable'),
    apply_uncommitted: names.includes('apply_uncommitted'),
  });
}

export function isBugSwitches(value: unknown): value is BugSwitches {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BUGS_BRAND] === true
  );
}
