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

/** A snapshot in progress: `step` encodes until `now()` reaches `deadline` and returns the bytes once done. */
export interface SnapshotSteps {
  step(deadline: number, now: () => number): Uint8Array | undefined;
}
