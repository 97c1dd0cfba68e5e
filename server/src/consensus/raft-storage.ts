/**
 * Durable Raft state of every group on a node, as the driver (`RaftHost`)
 * sees it: load each group at start, then one atomic, durable write per batch
 * of turns for all groups.
 */
export interface StoredEntry {
  readonly index: number;
  readonly term: number;
  readonly type: 'normal' | 'conf_change';
  readonly data: Uint8Array;
}

export interface StoredHardState {
  readonly term: number;
  readonly vote: string | null;
  readonly commit: number;
}

export interface StoredSnapshot {
  readonly meta: {
    readonly index: number;
    readonly term: number;
    readonly conf: { readonly voters: readonly string[]; readonly learners: readonly string[] };
  };
  readonly data: Uint8Array;
}

export interface PersistedGroup {
  hardState: StoredHardState | undefined;
  snapshot: StoredSnapshot | undefined;
  /** Entries after the snapshot, in index order, contiguous. */
  entries: StoredEntry[];
}

export interface GroupWrite {
  readonly group: number;
  /**
   * `install`: a snapshot received from a leader replaces the whole log.
   * `compact`: a snapshot of the local state machine; entries up to its index
   * are dropped, later ones kept. Applied before `entries`.
   */
  readonly snapshot?: { readonly snapshot: StoredSnapshot; readonly mode: 'install' | 'compact' };
  /** Appended; stored entries at or after `entries[0].index` are replaced (conflicting suffix). */
  readonly entries?: readonly StoredEntry[];
  readonly hardState?: StoredHardState;
}

export interface RaftStorage {
  /** Every group with durable state on this node. */
  groups(): number[];
  load(group: number): PersistedGroup;
  /**
   * Makes the whole batch durable atomically. Throws synchronously for a write
   * that would break the log (a programmer error); the promise resolves once
   * everything is on disk.
   */
  write(batch: readonly GroupWrite[]): Promise<void>;
  removeGroup(group: number): Promise<void>;
  /** Groups whose log keeps old storage alive; snapshotting them lets it be reclaimed. */
  groupsPinningOldLog(): number[];
  close(): Promise<void>;
}
