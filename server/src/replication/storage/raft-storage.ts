import type { Entry, GroupId, HardState, ReplicaId, Snapshot, SnapshotWriteMode } from '../../raft/index.js';

/**
 * Durable Raft state of every group on a node, as the driver (`RaftHost`)
 * sees it: load each group at start, then one atomic, durable write per batch
 * of turns for all groups.
 */
export interface PersistedGroup {
  readonly hardState: HardState | undefined;
  readonly snapshot: Snapshot | undefined;
  /** Entries after the snapshot, in index order, contiguous. */
  readonly entries: readonly Entry[];
  /** This node's replica id in the group, when it is not the node's own id (a replica added later). */
  readonly replica?: ReplicaId;
}

export interface GroupWrite {
  readonly group: GroupId;
  /** Records this node's replica id in the group (a replica being added), before anything else of it. */
  readonly replica?: ReplicaId;
  /**
   * `install`: a snapshot received from a leader replaces the whole log.
   * `compact`: a snapshot of the local state machine; entries up to its index
   * are dropped, later ones kept. Applied before `entries`.
   */
  readonly snapshot?: { readonly snapshot: Snapshot; readonly mode: SnapshotWriteMode };
  /** Appended; stored entries at or after `entries[0].index` are replaced (conflicting suffix). */
  readonly entries?: readonly Entry[];
  readonly hardState?: HardState;
}

export interface RaftStorage {
  /** Every group with durable state on this node. */
  groups(): GroupId[];
  /** A group's durable state; rejects if its snapshot file is damaged. */
  load(group: GroupId): Promise<PersistedGroup>;
  /**
   * Makes the whole batch durable atomically. Throws synchronously for a write
   * that would break the log (a programmer error); the promise resolves once
   * everything is on disk and rejects if the disk failed, after which the
   * storage refuses every later write.
   */
  write(batch: readonly GroupWrite[]): Promise<void>;
  /**
   * Drops a group (its replica was removed from this node) and durably records
   * `term`, the highest term its replica reached, as the group's tombstone.
   */
  removeGroup(group: GroupId, term: number): Promise<void>;
  /** The tombstone term of a group that was removed and not recreated since. */
  tombstone(group: GroupId): number | undefined;
  /** Groups whose log keeps old storage alive; snapshotting them lets it be reclaimed. */
  groupsPinningOldLog(): GroupId[];
  close(): Promise<void>;
}
