import type { GroupId } from '../raft/index.js';

/**
 * What the node layer needs from replication, per group. Implemented by the
 * Raft driver; a one-node deployment is the same code with one member.
 * Failures are `ReplicationError`s.
 */
export interface Replicator {
  /**
   * Proposes a command and resolves with what the group's state machine
   * returned when it applied the entry on this node, i.e. after the entry was
   * committed (durable on a quorum).
   */
  propose(group: GroupId, command: Uint8Array): Promise<unknown>;
  /** Resolves once this node's state reflects every write committed before the call (ReadIndex). */
  readBarrier(group: GroupId): Promise<void>;
  /** Why this node cannot serve yet, or undefined when every local group has a leader. */
  notReadyReason(): string | undefined;
  /** The storage error that stopped this node for good (it must be restarted), if any. */
  failure(): Error | undefined;
}
