import type { ReplicaId } from '../raft/types.js';

/**
 * Once the liveness window closes, a group still converging gets more time in
 * steps of this share of the window, up to `LIVENESS_MAX_WINDOWS` windows in all.
 */
export const LIVENESS_STEP = 0.2;
export const LIVENESS_MAX_WINDOWS = 2;

/** A group's progress at one moment after the faults stopped. */
export interface GroupProgress {
  /** The commit index of the group's leader. */
  readonly commit: number;
  /** The applied index of each member whose node is up and hosts it. */
  readonly applied: ReadonlyMap<ReplicaId, number>;
  /** Every member of the configuration the leader knows. */
  readonly members: readonly ReplicaId[];
  /** The group's liveness probe has not committed yet. */
  readonly probePending: boolean;
}

/**
 * Whether a group that has not converged when the liveness window closes is
 * still getting there, judged against the progress it showed a step earlier
 * (`before`; undefined when it had no leader then). `now` is undefined when
 * it has no leader now. A backlog from the fault phase drains at the
 * throughput the run's configuration allows (one entry in flight, slow
 * disks), which a fixed window cannot bound; a group that stalls cannot hide
 * behind that: it must have a leader, commit more while its probe waits, and
 * every member behind the commit index must have applied more.
 */
export function stillConverging(before: GroupProgress | undefined, now: GroupProgress | undefined): boolean {
  if (!before || !now) return false;
  if (now.probePending && now.commit <= before.commit) return false;
  for (const id of now.members) {
    const applied = now.applied.get(id);
    if (applied !== undefined && applied >= now.commit) continue;
    const earlier = before.applied.get(id);
    if (applied === undefined || earlier === undefined || applied <= earlier) return false;
  }
  return true;
}
