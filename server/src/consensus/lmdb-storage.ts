import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, open, type RootDatabase } from 'lmdb';

/**
 * Durable Raft state of every group on this node, in one LMDB environment:
 * log entries, hard state and the latest snapshot per group.
 *
 * Why LMDB: its copy-on-write B+tree never exposes a torn write (a crash
 * leaves the last committed transaction intact, so a partial tail cannot be
 * read back), it batches every write queued in one event-loop turn into a
 * single transaction committed on a worker thread, and with `overlappingSync`
 * off a write resolves only once that transaction is fsynced. So one `write()`
 * per turn is one fsync for all groups (group commit), and a resolved write is
 * durable. Recovery reads the snapshot and the entries after it, so restart
 * time is bounded by the snapshot interval, not total history.
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

interface EntryRecord {
  t: number;
  y: 0 | 1;
  d: Uint8Array;
}

interface SnapshotRecord {
  index: number;
  term: number;
  voters: string[];
  learners: string[];
  data: Uint8Array;
}

interface GroupBounds {
  /** Index of the first stored entry (snapshot index + 1 when the log is empty). */
  first: number;
  /** Index of the last stored entry (snapshot index when empty). */
  last: number;
}

export class LmdbRaftStorage {
  private readonly bounds = new Map<number, GroupBounds>();
  private closed = false;

  private constructor(
    private readonly root: RootDatabase,
    private readonly entriesDb: Database<EntryRecord, [number, number]>,
    private readonly hardStateDb: Database<StoredHardState, number>,
    private readonly snapshotDb: Database<SnapshotRecord, number>,
  ) {}

  static open(dir: string): LmdbRaftStorage {
    mkdirSync(dir, { recursive: true });
    const root = open({
      path: join(dir, 'raft.lmdb'),
      overlappingSync: false,
      noSync: false,
      // The map grows on demand; this is only the initial reservation.
      mapSize: 256 * 1024 * 1024,
      maxDbs: 8,
    });
    const storage = new LmdbRaftStorage(
      root,
      root.openDB<EntryRecord, [number, number]>('entries', {}),
      root.openDB<StoredHardState, number>('hard_state', {}),
      root.openDB<SnapshotRecord, number>('snapshots', {}),
    );
    return storage;
  }

  /** Every group with any durable state on this node. */
  groups(): number[] {
    const found = new Set<number>();
    for (const key of this.hardStateDb.getKeys()) found.add(key as number);
    for (const key of this.snapshotDb.getKeys()) found.add(key as number);
    return [...found].sort((a, b) => a - b);
  }

  load(group: number): PersistedGroup {
    const hardState = this.hardStateDb.get(group);
    const snap = this.snapshotDb.get(group);
    const snapshot: StoredSnapshot | undefined = snap
      ? {
          meta: {
            index: snap.index,
            term: snap.term,
            conf: { voters: snap.voters, learners: snap.learners },
          },
          data: snap.data,
        }
      : undefined;
    const after = snapshot?.meta.index ?? 0;
    const entries: StoredEntry[] = [];
    for (const { key, value } of this.entriesDb.getRange({
      start: [group, after + 1],
      end: [group, Infinity],
    })) {
      const index = key[1];
      // A gap can only come from a bug or a foreign file; stop at it rather than return a broken log.
      if (index !== after + 1 + entries.length) {
        throw new Error(`raft storage: group ${group} log has a gap before index ${index}`);
      }
      entries.push({ index, term: value.t, type: value.y === 1 ? 'conf_change' : 'normal', data: value.d });
    }
    this.bounds.set(group, { first: after + 1, last: after + entries.length });
    return { hardState, snapshot, entries };
  }

  /**
   * Queues every group's changes; lmdb-js commits all writes issued in one
   * event-loop turn as one transaction on its write thread (event-turn
   * batching), so this is atomic and costs one fsync. The promise resolves once
   * that transaction is durable; until then nothing that depends on it may be
   * sent or acknowledged. Plain puts (rather than a transaction callback) keep
   * the main thread out of the commit path.
   */
  write(batch: readonly GroupWrite[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('raft storage is closed'));
    let last: Promise<unknown> | undefined;
    for (const w of batch) last = this.writeGroup(w) ?? last;
    return last ? last.then(() => undefined) : Promise.resolve();
  }

  private boundsOf(group: number): GroupBounds {
    let b = this.bounds.get(group);
    if (!b) {
      b = { first: 1, last: 0 };
      this.bounds.set(group, b);
    }
    return b;
  }

  private writeGroup(w: GroupWrite): Promise<unknown> | undefined {
    const b = this.boundsOf(w.group);
    // Validate before queueing anything, so a bad write leaves storage untouched.
    let first = b.first;
    let last = b.last;
    if (w.snapshot) {
      const idx = w.snapshot.snapshot.meta.index;
      if (w.snapshot.mode === 'install') {
        first = idx + 1;
        last = idx;
      } else {
        first = Math.max(first, idx + 1);
        last = Math.max(last, idx);
      }
    }
    if (w.entries && w.entries.length > 0) {
      const start = w.entries[0]!.index;
      if (start < first)
        throw new Error(`raft storage: group ${w.group} write at ${start} precedes log start ${first}`);
      if (start > last + 1)
        throw new Error(`raft storage: group ${w.group} write at ${start} leaves a gap after ${last}`);
    }
    let op: Promise<unknown> | undefined;
    if (w.snapshot) {
      const { snapshot, mode } = w.snapshot;
      const idx = snapshot.meta.index;
      op = this.snapshotDb.put(w.group, {
        index: idx,
        term: snapshot.meta.term,
        voters: [...snapshot.meta.conf.voters],
        learners: [...snapshot.meta.conf.learners],
        data: snapshot.data,
      });
      const dropThrough = mode === 'install' ? b.last : Math.min(idx, b.last);
      for (let i = b.first; i <= dropThrough; i++) op = this.entriesDb.remove([w.group, i]);
      b.first = first;
      b.last = last;
    }
    if (w.entries && w.entries.length > 0) {
      const newLast = w.entries[w.entries.length - 1]!.index;
      for (let i = newLast + 1; i <= b.last; i++) op = this.entriesDb.remove([w.group, i]);
      for (const e of w.entries) {
        op = this.entriesDb.put([w.group, e.index], {
          t: e.term,
          y: e.type === 'conf_change' ? 1 : 0,
          d: e.data,
        });
      }
      b.last = newLast;
    }
    if (w.hardState) {
      op = this.hardStateDb.put(w.group, {
        term: w.hardState.term,
        vote: w.hardState.vote,
        commit: w.hardState.commit,
      });
    }
    return op;
  }

  /** Removes a group's state entirely (the group moved off this node). */
  removeGroup(group: number): Promise<void> {
    const b = this.boundsOf(group);
    return this.root.transaction(() => {
      for (let i = b.first; i <= b.last; i++) this.entriesDb.remove([group, i]);
      this.hardStateDb.remove(group);
      this.snapshotDb.remove(group);
      this.bounds.delete(group);
    }) as Promise<void>;
  }

  /** Waits for queued writes, then closes the environment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.flushed;
    await this.root.close();
  }
}
