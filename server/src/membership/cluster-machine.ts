import type { GroupStateMachine } from '../replication/host/state-machine.js';
import {
  applyClusterCommand,
  type ClusterResult,
  type ClusterState,
  decodeClusterCommand,
  decodeClusterState,
  encodeClusterState,
} from './cluster-state.js';

/**
 * The meta group's state machine on this node. It starts empty (a node that
 * has not yet received the meta group's snapshot knows no members) and tells
 * `onChange` after every applied command and restore.
 */
export class ClusterMachine implements GroupStateMachine {
  private current: ClusterState | undefined;

  constructor(private readonly onChange: (state: ClusterState) => void = () => {}) {}

  /** The state as this replica has applied it; undefined before its first snapshot. */
  get state(): ClusterState | undefined {
    return this.current;
  }

  apply(data: Uint8Array): ClusterResult {
    if (!this.current) return { ok: false, error: 'the meta group has no state yet' };
    const { state, result } = applyClusterCommand(this.current, decodeClusterCommand(data));
    this.current = state;
    if (result.ok) this.onChange(state);
    return result;
  }

  snapshot(): Uint8Array {
    return this.current ? encodeClusterState(this.current) : new Uint8Array(0);
  }

  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.current = undefined;
      return;
    }
    this.current = decodeClusterState(data);
    this.onChange(this.current);
  }
}
