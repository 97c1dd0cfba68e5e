import type { GroupId, RaftError, ReplicaId } from '../raft/index.js';

/**
 * Why a proposal or read did not complete, as the replication layer knows it.
 * The HTTP layer turns these into wire errors in one place
 * (`errors/to-app-error.ts`); a forwarding layer can act on `leader`.
 */
export type ReplicationErrorKind =
  /** This node does not lead the group; `leader` names the one it knows (null: none yet). */
  | 'not_leader'
  /** The group is busy with a leadership transfer or a membership change; retry shortly. */
  | 'busy'
  /** Too much is uncommitted or queued; back off. */
  | 'overloaded'
  | 'too_large'
  /** No answer in time: the proposal may still commit (`outcome: unknown`). */
  | 'timeout'
  /** Another leader's entry took the proposal's index: it never took effect. */
  | 'overwritten'
  /** The group was replaced by a leader's snapshot, or left this node, before the proposal applied here. */
  | 'superseded'
  | 'unknown_group'
  | 'stopping'
  /** The node's storage failed; it serves nothing until restarted. */
  | 'storage_failed';

/**
 * `not_applied`: the proposal never took effect, so a retry is safe.
 * `unknown`: it may still commit; retry only what is idempotent.
 */
export type Outcome = 'not_applied' | 'unknown';

export class ReplicationError extends Error {
  override name = 'ReplicationError';
  constructor(
    readonly kind: ReplicationErrorKind,
    readonly group: GroupId | undefined,
    message: string,
    readonly outcome: Outcome = 'not_applied',
    readonly leader: ReplicaId | null = null,
  ) {
    super(message);
  }

  static isInstance(value: unknown): value is ReplicationError {
    return value instanceof ReplicationError;
  }
}

/** A refusal from the Raft core for `group`, as a replication error. */
export function fromRaftError(group: GroupId, error: RaftError): ReplicationError {
  switch (error.code) {
    case 'not_leader':
      return new ReplicationError(
        'not_leader',
        group,
        error.leader ? `group ${group} is led by ${error.leader}` : `group ${group} has no leader yet; retry`,
        'not_applied',
        error.leader,
      );
    case 'transferring':
    case 'conf_change_pending':
    case 'not_committed_in_term':
    case 'learner_behind':
      return new ReplicationError('busy', group, `group ${group}: ${error.message}; retry`);
    case 'uncommitted_limit':
    case 'read_index_queue_full':
      return new ReplicationError(
        'overloaded',
        group,
        `group ${group} is overloaded (${error.message}); retry`,
      );
    case 'entry_too_large':
      return new ReplicationError('too_large', group, error.message);
    case 'unknown_group':
      return new ReplicationError('unknown_group', group, error.message);
    default:
      return new ReplicationError('busy', group, `group ${group}: ${error.message}`);
  }
}
