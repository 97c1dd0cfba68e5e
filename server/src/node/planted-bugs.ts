import { type BugSwitches, bugsForTesting, NO_BUGS } from '../raft/bugs.js';

/**
 * Bugs a whole server process can run with, for proving that the chaos
 * suite's checkers catch them in real processes. Only the test entry point
 * (`testing/planted-bugs-main.ts`) creates a set with any switched on: the
 * server's own entry point never does, and no configuration variable can.
 */
export const PLANTED_BUG_NAMES = [
  /** The group leader acknowledges an append once its own log has it, without a quorum. */
  'ack_before_quorum',
  /** Window and tail reads are served from whichever replica this node holds, without ReadIndex. */
  'stale_follower_reads',
  /** A forwarded append whose outcome is unknown is retried without its idempotency key. */
  'forward_retry_without_key',
] as const;

export type PlantedBugName = (typeof PLANTED_BUG_NAMES)[number];

export interface PlantedBugs {
  readonly raft: BugSwitches;
  readonly stale_follower_reads: boolean;
  readonly forward_retry_without_key: boolean;
}

export const NO_PLANTED_BUGS: PlantedBugs = Object.freeze({
  raft: NO_BUGS,
  stale_follower_reads: false,
  forward_retry_without_key: false,
});

/** Test-only: the named bugs switched on. */
export function plantedBugsForTesting(names: readonly PlantedBugName[]): PlantedBugs {
  return Object.freeze({
    raft: bugsForTesting(names.includes('ack_before_quorum') ? ['commit_without_quorum'] : []),
    stale_follower_reads: names.includes('stale_follower_reads'),
    forward_retry_without_key: names.includes('forward_retry_without_key'),
  });
}
