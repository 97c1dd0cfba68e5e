/**
 * What the node layer needs from consensus, per group. Implemented by the
 * Raft driver; a one-node deployment is the same code with one member.
 */
export interface Replicator {
  /**
   * Proposes a command and resolves with what the group's state machine
   * returned when it applied the entry on this node, i.e. after the entry was
   * committed (durable on a quorum). Rejects with an `AppError('unavailable')`
   * when the group has no reachable leader.
   */
  propose(group: number, command: Uint8Array): Promise<unknown>;
  /** Resolves once this node's state reflects every write committed before the call (ReadIndex). */
  readBarrier(group: number): Promise<void>;
  /** Why this node cannot serve yet, or undefined when every local group has a leader. */
  notReadyReason(): string | undefined;
}

/** One group's deterministic state machine as the Raft driver sees it. */
export interface GroupStateMachine {
  /** Applies a committed entry; the return value resolves the proposer's promise on this node. */
  apply(data: Uint8Array): unknown;
  snapshot(): Uint8Array;
  /**
   * Optional: captures the state now and encodes it a slice at a time while
   * entries keep being applied, so a large state never stalls the node.
   */
  snapshotEncoder?(): SnapshotSteps;
  restore(data: Uint8Array): void;
}

/** A snapshot in progress: `step` encodes until `deadline` (`performance.now()` time) and returns the bytes once done. */
export interface SnapshotSteps {
  step(deadline: number): Uint8Array | undefined;
}
