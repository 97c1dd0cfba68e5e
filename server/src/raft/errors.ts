import type { ReplicaId } from './types.js';

/**
 * Operating errors of the Raft core: expected outcomes the caller handles (retry
 * elsewhere, back off, answer 503). Programmer errors are assertions instead.
 */
export type RaftErrorCode =
  /** This replica is not the leader; `leader` names the one it knows, if any. */
  | 'not_leader'
  /** A leadership transfer is in progress; retry after it finishes or times out. */
  | 'transferring'
  | 'entry_too_large'
  /** Too many uncommitted bytes: followers are behind; back off. */
  | 'uncommitted_limit'
  /** Another membership change is in the log and not yet committed. */
  | 'conf_change_pending'
  /** The leader has not yet committed an entry of its own term. */
  | 'not_committed_in_term'
  | 'invalid_conf_change'
  /** The learner to promote has not caught up with the leader's log. */
  | 'learner_behind'
  /** Leadership can only be handed to another voter. */
  | 'invalid_transfer'
  | 'read_index_queue_full'
  | 'unknown_group'
  | 'group_exists'
  /** A compaction was requested for an index the log has already moved past. */
  | 'snapshot_stale';

export interface RaftError {
  readonly code: RaftErrorCode;
  readonly message: string;
  /** For `not_leader`: the leader this replica believes in, or null. */
  readonly leader: ReplicaId | null;
}

export function raftError(code: RaftErrorCode, message: string, leader: ReplicaId | null = null): RaftError {
  return { code, message, leader };
}

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: RaftError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(error: RaftError): Result<T> {
  return { ok: false, error };
}

/** Programmer errors: a broken invariant is a bug, so crash loudly rather than corrupt state. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`raft invariant violated: ${message}`);
}
