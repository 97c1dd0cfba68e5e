import { type BugSwitches, NO_BUGS } from '../../raft/bugs.js';
import type { HardState } from '../../raft/index.js';
import { crc32 } from '../../util/checksum.js';
import { type AppendFile, type FileSystem, joinPath, nodeFileSystem } from './file-system.js';
import type { GroupWrite, PersistedGroup, RaftStorage } from './raft-storage.js';
import { WalCorruptionError, WalStorageError } from './wal-errors.js';
import {
  type EntryTuple,
  encodeFrame,
  MODE_COMPACT,
  MODE_INSTALL,
  REC_ENTRIES,
  REC_HARD_STATE,
  REC_REMOVE,
  REC_REPLICA,
  REC_SNAPSHOT,
  SEGMENT_MAGIC,
  type WalRecord,
} from './wal-format.js';
import { recoverSegments } from './wal-recovery.js';
import { ReplayError, replay, type SnapshotRef } from './wal-replay.js';

/**
 * Raft storage as a checksummed, segmented write-ahead log (format in
 * `wal-format.ts`).
 *
 * Every batch (all groups' snapshots, entries and hard states of one or more
 * turns) becomes one frame appended to the active segment, written on a file
 * opened with O_DSYNC: the write returns once the data is durable, so a batch
 * costs one trip to libuv's thread pool instead of a write and an fdatasync.
 *
 * What the storage promises, fault by fault (docs/architecture.md has the
 * operator's view):
 * - A write resolves only once all its bytes are durable; a short write is
 *   continued, never acknowledged half done.
 * - A failed write or sync (EIO, ENOSPC) fails the storage for good: every
 *   later write is refused and the node must restart, which recovers from what
 *   is really on disk. Nothing is retried, because after a failed fsync the
 *   kernel may have dropped the dirty pages it could not write.
 * - A crash tears at most the last write: recovery cuts a torn tail (a frame
 *   cut short, with nothing after it). Any other damage (a checksum that fails
 *   with all bytes present, a frame in the middle, a damaged snapshot file)
 *   stops start-up with a `WalCorruptionError` naming the file and offset, so
 *   no acknowledged entry, term or vote is ever dropped silently.
 * - Snapshots are files (`snap/g<group>-<index>-<term>-<n>.snap`, written to
 *   a temporary name, fsynced, renamed, directory fsynced) referenced by a
 *   record carrying their length and CRC-32, checked when loaded.
 * - Segments rotate at `segment_bytes_max`. A new segment starts with a
 *   checkpoint of every group's hard state and snapshot and of the tombstones
 *   of removed groups, so older segments are only needed for entries no
 *   snapshot covers yet; they are deleted once every group's snapshot does.
 */

const SNAPSHOT_NAME = /^g\d+-\d+-\d+-(\d+)\.snap$/;

interface GroupState {
  /** Latest hard state and snapshot written, durable or not (for validating later writes). */
  hard: HardState | undefined;
  snap: SnapshotRef | undefined;
  /** What is known to be on disk: checkpoints and reclaiming rely only on these. */
  durableHard: HardState | undefined;
  durableSnap: SnapshotRef | undefined;
  /** Index of the first entry after the snapshot, and of the last entry (snapshot index when empty). */
  first: number;
  last: number;
  /** Only during recovery, until `load()` hands them out. */
  entries: PersistedGroup['entries'] | undefined;
  /** This node's replica id in the group, if not the node's own (see `GroupWrite.replica`). */
  replica: string | undefined;
}

interface Segment {
  seq: number;
  path: string;
  bytes: number;
  /** Highest entry index each group wrote into this segment. */
  maxIndex: Map<number, number>;
}

/** A snapshot file, written to a temporary name and renamed once durable. */
interface SnapshotFile {
  name: string;
  data: Uint8Array;
}

/** A compaction snapshot whose file is written beside the group-commit chain, then recorded. */
interface Compaction {
  group: number;
  state: GroupState;
  snap: SnapshotRef;
  data: Uint8Array;
}

interface Plan {
  records: WalRecord[];
  files: SnapshotFile[];
  compactions: Compaction[];
  /** [group, last entry index] written by this batch. */
  indexed: [number, number][];
  durable: { state: GroupState; hard: HardState | undefined; snap: SnapshotRef | undefined }[];
}

export interface WalOptions {
  fs?: FileSystem;
  segment_bytes_max?: number;
  /** Beyond this many segments, groups pinning the oldest are asked to snapshot. */
  segments_retained_max?: number;
  /** Snapshot files are written and checksummed in pieces of this size, so no piece holds the event loop long. */
  snapshot_write_bytes?: number;
  /** Test-only fault switches (`bugsForTesting`). */
  bugs?: BugSwitches;
}

export class WalRaftStorage implements RaftStorage {
  private readonly fs: FileSystem;
  private readonly bugs: BugSwitches;
  private readonly groupsState = new Map<number, GroupState>();
  /** Removed groups: the term each removed replica reached (kept until the group is durable again). */
  private readonly tombstones = new Map<number, number>();
  /**
   * Groups whose removal record is not yet durable, with the removals queued
   * and the removed replicas' snapshot files: until the record is durable the
   * segments holding their entries and those files stay (a crash brings the
   * group back from them).
   */
  private readonly removing = new Map<number, { pending: number; files: string[] }>();
  private readonly segments: Segment[] = [];
  private active!: { segment: Segment; file: AppendFile };
  private chain: Promise<void> = Promise.resolve();
  /** Snapshot files being written, protected from cleanup until recorded. */
  private readonly filesInFlight = new Set<string>();
  private readonly compactionsInFlight = new Set<Promise<void>>();
  private nextFile = 1;
  private closed = false;
  private failed: Error | undefined;
  private readonly walDir: string;
  private readonly snapDir: string;
  private readonly segmentBytesMax: number;
  private readonly segmentsRetainedMax: number;
  private readonly pieceBytes: number;

  private constructor(dir: string, options: WalOptions) {
    this.fs = options.fs ?? nodeFileSystem;
    this.bugs = options.bugs ?? NO_BUGS;
    this.walDir = joinPath(dir, 'wal');
    this.snapDir = joinPath(dir, 'snap');
    this.segmentBytesMax = options.segment_bytes_max ?? 64 * 1024 * 1024;
    this.segmentsRetainedMax = options.segments_retained_max ?? 4;
    this.pieceBytes = options.snapshot_write_bytes ?? 4 * 1024 * 1024;
  }

  /** Opens (or creates) the log in `dir`; rejects with `WalCorruptionError` on damage. */
  static async open(dir: string, options: WalOptions = {}): Promise<WalRaftStorage> {
    const s = new WalRaftStorage(dir, options);
    await s.fs.mkdirp(s.walDir);
    await s.fs.mkdirp(s.snapDir);
    await s.recover();
    return s;
  }

  // ---- recovery -----------------------------------------------------------

  private async recover(): Promise<void> {
    const recovered = await recoverSegments(this.fs, this.walDir, this.bugs);
    let replayed: ReturnType<typeof replay>;
    try {
      replayed = replay(recovered);
    } catch (error) {
      if (error instanceof ReplayError) throw new WalCorruptionError(error.path, error.offset, error.reason);
      throw error;
    }
    for (const [group, g] of replayed.groups) {
      this.groupsState.set(group, {
        hard: g.hard,
        snap: g.snap,
        durableHard: g.hard,
        durableSnap: g.snap,
        first: g.first,
        last: g.last,
        entries: g.entries,
        replica: g.replica,
      });
    }
    for (const [group, term] of replayed.tombstones) this.tombstones.set(group, term);
    recovered.forEach(({ seq, path, bytes }, i) => {
      this.segments.push({ seq, path, bytes, maxIndex: replayed.maxIndex[i]! });
    });
    for (const name of await this.fs.list(this.snapDir)) {
      if (name.endsWith('.tmp')) await this.fs.remove(joinPath(this.snapDir, name));
      const n = SNAPSHOT_NAME.exec(name);
      if (n) this.nextFile = Math.max(this.nextFile, Number(n[1]) + 1);
    }
    const last = this.segments[this.segments.length - 1];
    if (last && recovered[recovered.length - 1]!.version === 2) {
      this.active = {
        segment: last,
        file: await this.fs.openAppend(last.path, { create: false, dsync: true }),
      };
    } else {
      // A fresh log, or one whose newest segment predates the versioned format: start a new segment.
      await this.createSegment((last?.seq ?? 0) + 1, last ? this.checkpoint() : []);
    }
  }

  private async createSegment(seq: number, checkpoint: WalRecord[]): Promise<void> {
    const path = joinPath(this.walDir, `${String(seq).padStart(10, '0')}.wal`);
    const file = await this.fs.openAppend(path, { create: true, dsync: true });
    const head =
      checkpoint.length > 0 ? Buffer.concat([SEGMENT_MAGIC, encodeFrame(checkpoint)]) : SEGMENT_MAGIC;
    await this.writeAll(file, head);
    await file.sync();
    await this.fs.syncDir(this.walDir);
    const segment: Segment = { seq, path, bytes: head.length, maxIndex: new Map() };
    this.segments.push(segment);
    const previous = this.active;
    this.active = { segment, file };
    await previous?.file.close();
  }

  // ---- reads --------------------------------------------------------------

  groups(): number[] {
    return [...this.groupsState.entries()]
      .filter(([, s]) => s.hard !== undefined || s.snap !== undefined)
      .map(([g]) => g)
      .sort((a, b) => a - b);
  }

  tombstone(group: number): number | undefined {
    return this.tombstones.get(group);
  }

  async load(group: number): Promise<PersistedGroup> {
    const s = this.stateOf(group);
    const entries = s.entries ?? [];
    s.entries = undefined;
    const replica = s.replica !== undefined ? { replica: s.replica } : {};
    if (!s.snap) return { hardState: s.hard, snapshot: undefined, entries, ...replica };
    const { index, term, voters, learners, file, checksum, size } = s.snap;
    const path = joinPath(this.snapDir, file);
    let data: Uint8Array;
    try {
      data = await this.fs.readFile(path);
    } catch (error) {
      throw new WalCorruptionError(path, 0, `snapshot file unreadable: ${(error as Error).message}`);
    }
    if (size !== undefined && data.length !== size) {
      throw new WalCorruptionError(
        path,
        Math.min(size, data.length),
        `snapshot is ${data.length} bytes, expected ${size}`,
      );
    }
    const actual = crc32(data);
    if (checksum !== undefined && actual !== checksum) {
      throw new WalCorruptionError(path, 0, 'snapshot checksum mismatch');
    }
    return {
      hardState: s.hard,
      snapshot: { meta: { index, term, conf: { voters, learners }, checksum: checksum ?? actual }, data },
      entries,
      ...replica,
    };
  }

  private stateOf(group: number): GroupState {
    let s = this.groupsState.get(group);
    if (!s) {
      s = {
        hard: undefined,
        snap: undefined,
        durableHard: undefined,
        durableSnap: undefined,
        first: 1,
        last: 0,
        entries: undefined,
        replica: undefined,
      };
      this.groupsState.set(group, s);
    }
    return s;
  }

  // ---- writes -------------------------------------------------------------

  write(batch: readonly GroupWrite[]): Promise<void> {
    if (this.closed) return Promise.reject(new WalStorageError('raft storage is closed'));
    if (this.failed) return Promise.reject(this.failed);
    const plan: Plan = { records: [], files: [], compactions: [], indexed: [], durable: [] };
    for (const w of batch) this.plan(w, plan);
    const run = this.enqueue(() => this.flush(plan));
    for (const c of plan.compactions) this.writeCompaction(c);
    return run;
  }

  /**
   * Runs jobs one after another. The first failure fails the storage: later
   * jobs are refused, never run on top of a write whose outcome is unknown.
   */
  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => {
      if (this.failed) throw this.failed;
      return job();
    });
    this.chain = run.catch((error: Error) => {
      this.failed ??= error;
    });
    return run;
  }

  /**
   * A compaction snapshot of a large group can take a long time to write, and
   * nothing waits for it: entries stay in the log until it is recorded. So its
   * file is written beside the chain, and only once durable is it recorded
   * (through the chain) and trusted for checkpoints and reclaiming segments.
   * A newer snapshot recorded first makes it redundant.
   */
  private writeCompaction(c: Compaction): void {
    this.filesInFlight.add(c.snap.file);
    const done = this.writeSnapshotFile({ name: c.snap.file, data: c.data })
      .then(() => this.fs.syncDir(this.snapDir))
      .then(() => this.enqueue(() => this.recordCompaction(c)))
      .catch((error: Error) => {
        this.failed ??= error;
      })
      .finally(() => {
        this.filesInFlight.delete(c.snap.file);
        this.compactionsInFlight.delete(done);
      });
    this.compactionsInFlight.add(done);
  }

  private async recordCompaction(c: Compaction): Promise<void> {
    const { state, snap } = c;
    const current = this.groupsState.get(c.group) === state && (state.durableSnap?.index ?? 0) < snap.index;
    if (current) {
      await this.append([snapshotRecord(c.group, MODE_COMPACT, snap)]);
      state.durableSnap = snap;
    }
    this.filesInFlight.delete(snap.file);
    await this.removeStaleSnapshots();
    if (this.active.segment.bytes >= this.segmentBytesMax) await this.rotate();
  }

  /** Validates a group's write against its log and updates the in-memory view; throws on a broken write. */
  private plan(w: GroupWrite, plan: Plan): void {
    const { records, files, indexed } = plan;
    const s = this.stateOf(w.group);
    let first = s.first;
    let last = s.last;
    if (w.replica !== undefined) {
      s.replica = w.replica;
      records.push([REC_REPLICA, w.group, w.replica]);
    }
    if (w.snapshot) {
      const { snapshot, mode } = w.snapshot;
      const { index, term, conf, checksum } = snapshot.meta;
      if (mode === 'install' || index >= last) {
        first = index + 1;
        last = index;
      } else {
        first = Math.max(first, index + 1);
      }
      const file = `g${w.group}-${index}-${term}-${this.nextFile++}.snap`;
      s.snap = {
        index,
        term,
        voters: [...conf.voters],
        learners: [...conf.learners],
        file,
        checksum,
        size: snapshot.data.length,
      };
      if (mode === 'install') {
        // A leader's snapshot replaces the log, so it must be durable before anything after it.
        files.push({ name: file, data: snapshot.data });
        records.push(snapshotRecord(w.group, MODE_INSTALL, s.snap));
      } else {
        plan.compactions.push({ group: w.group, state: s, snap: s.snap, data: snapshot.data });
      }
    }
    if (w.entries && w.entries.length > 0) {
      const start = w.entries[0]!.index;
      if (start < first)
        throw new WalStorageError(
          `raft storage: group ${w.group} write at ${start} precedes log start ${first}`,
        );
      if (start > last + 1)
        throw new WalStorageError(
          `raft storage: group ${w.group} write at ${start} leaves a gap after ${last}`,
        );
      records.push([
        REC_ENTRIES,
        w.group,
        start,
        w.entries.map((e): EntryTuple => [e.term, e.type === 'conf_change' ? 1 : 0, e.data]),
      ]);
      last = w.entries[w.entries.length - 1]!.index;
      indexed.push([w.group, last]);
    }
    if (w.hardState) {
      s.hard = { term: w.hardState.term, vote: w.hardState.vote, commit: w.hardState.commit };
      records.push([REC_HARD_STATE, w.group, s.hard.term, s.hard.vote, s.hard.commit]);
    }
    s.first = first;
    s.last = last;
    plan.durable.push({
      state: s,
      hard: w.hardState ? s.hard : undefined,
      snap: w.snapshot?.mode === 'install' ? s.snap : undefined,
    });
  }

  private async flush(plan: Plan): Promise<void> {
    const { records, files, indexed } = plan;
    for (const f of files) await this.writeSnapshotFile(f);
    if (files.length > 0) await this.fs.syncDir(this.snapDir);
    if (records.length === 0) return;
    const segment = await this.append(records);
    for (const d of plan.durable) {
      if (d.hard) d.state.durableHard = d.hard;
      if (d.snap) d.state.durableSnap = d.snap;
    }
    for (const [group, index] of indexed) {
      segment.maxIndex.set(group, Math.max(segment.maxIndex.get(group) ?? 0, index));
    }
    if (files.length > 0) await this.removeStaleSnapshots();
    if (segment.bytes >= this.segmentBytesMax) await this.rotate();
  }

  /** Appends one frame to the active segment; the segment it went to. */
  private async append(records: WalRecord[]): Promise<Segment> {
    const buf = encodeFrame(records);
    const { segment, file } = this.active;
    await this.writeAll(file, buf);
    segment.bytes += buf.length;
    return segment;
  }

  /** Writes every byte, continuing after short writes; a write that makes no progress fails. */
  private async writeAll(file: AppendFile, data: Uint8Array): Promise<void> {
    if (this.bugs.wal_acks_short_write) {
      await file.write(data);
      return;
    }
    let done = 0;
    while (done < data.length) {
      const n = await file.write(done === 0 ? data : data.subarray(done));
      if (!(n > 0))
        throw new WalStorageError(`raft storage: a write made no progress (${done} of ${data.length} bytes)`);
      done += n;
    }
  }

  /** Writes a snapshot file under a temporary name, fsyncs it and renames it into place. */
  private async writeSnapshotFile(f: SnapshotFile): Promise<void> {
    const path = joinPath(this.snapDir, f.name);
    const tmp = `${path}.tmp`;
    const file = await this.fs.openAppend(tmp, { create: true, dsync: false });
    try {
      // In pieces: the write of a large snapshot then never holds the event loop for long.
      for (let at = 0; at < f.data.length; at += this.pieceBytes) {
        await this.writeAll(file, f.data.subarray(at, at + this.pieceBytes));
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await this.fs.rename(tmp, path);
  }

  private checkpoint(): WalRecord[] {
    const out: WalRecord[] = [];
    // Only for groups with nothing durable since: a tombstone before a live group's records would mark
    // them as a removed incarnation's.
    for (const [group, term] of this.tombstones) {
      const s = this.groupsState.get(group);
      if (!s?.durableHard && !s?.durableSnap) out.push([REC_REMOVE, group, term]);
    }
    for (const [group, s] of this.groupsState) {
      // Written before the group's other state, so durable whenever that is.
      if (s.replica !== undefined && (s.durableSnap || s.durableHard))
        out.push([REC_REPLICA, group, s.replica]);
      if (s.durableSnap) out.push(snapshotRecord(group, MODE_COMPACT, s.durableSnap));
      if (s.durableHard) {
        const h = s.durableHard;
        out.push([REC_HARD_STATE, group, h.term, h.vote, h.commit]);
      }
    }
    return out;
  }

  private async rotate(): Promise<void> {
    await this.createSegment(this.active.segment.seq + 1, this.checkpoint());
    await this.reclaim();
  }

  /** Deletes the oldest segments whose entries every group's snapshot covers. */
  private async reclaim(): Promise<void> {
    while (this.segments.length > 1 && this.segments[0] !== this.active.segment) {
      const oldest = this.segments[0]!;
      if (!this.covered(oldest)) return;
      this.segments.shift();
      await this.fs.remove(oldest.path);
    }
  }

  private covered(segment: Segment): boolean {
    for (const [group, max] of segment.maxIndex) {
      if (this.removing.has(group)) return false;
      const s = this.groupsState.get(group);
      if (s && max > (s.durableSnap?.index ?? 0)) return false;
    }
    return true;
  }

  private async removeStaleSnapshots(): Promise<void> {
    // Keep what is durable and what a queued write is about to reference.
    const live = new Set<string>(this.filesInFlight);
    for (const { files } of this.removing.values()) for (const f of files) live.add(f);
    for (const s of this.groupsState.values()) {
      if (s.snap) live.add(s.snap.file);
      if (s.durableSnap) live.add(s.durableSnap.file);
    }
    for (const name of await this.fs.list(this.snapDir)) {
      if (name.endsWith('.snap') && !live.has(name)) await this.fs.remove(joinPath(this.snapDir, name));
    }
  }

  groupsPinningOldLog(): number[] {
    if (this.segments.length <= this.segmentsRetainedMax) return [];
    const oldest = this.segments[0]!;
    const pinning: number[] = [];
    for (const [group, max] of oldest.maxIndex) {
      const s = this.groupsState.get(group);
      if (s && max > (s.durableSnap?.index ?? 0)) pinning.push(group);
    }
    return pinning;
  }

  removeGroup(group: number, term: number): Promise<void> {
    const removed = this.groupsState.get(group);
    const files = [removed?.snap?.file, removed?.durableSnap?.file].filter((f) => f !== undefined);
    const earlier = this.removing.get(group);
    this.removing.set(group, {
      pending: (earlier?.pending ?? 0) + 1,
      files: [...(earlier?.files ?? []), ...files],
    });
    this.groupsState.delete(group);
    const tombstone = Math.max(term, this.tombstones.get(group) ?? 0);
    this.tombstones.set(group, tombstone);
    return this.enqueue(async () => {
      await this.append([[REC_REMOVE, group, tombstone]]);
      // Durably removed: the replica's entries no longer keep segments alive.
      for (const segment of this.segments) segment.maxIndex.delete(group);
      const r = this.removing.get(group)!;
      if (r.pending === 1) this.removing.delete(group);
      else r.pending--;
      await this.removeStaleSnapshots();
    });
  }

  /** Number of segment files kept (for tests and metrics). */
  segmentCount(): number {
    return this.segments.length;
  }

  /** Resolves once every compaction snapshot written so far is durable and recorded (or superseded). */
  async compactionsSettled(): Promise<void> {
    while (this.compactionsInFlight.size > 0) await Promise.all(this.compactionsInFlight);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactionsSettled();
    await this.chain;
    await this.active?.file.close();
  }
}

function snapshotRecord(group: number, mode: 0 | 1, snap: SnapshotRef): WalRecord {
  const { index, term, voters, learners, file, checksum, size } = snap;
  const rec: WalRecord = [REC_SNAPSHOT, group, mode, index, term, [...voters], [...learners], file];
  if (checksum !== undefined && size !== undefined) rec.push(checksum, size);
  return rec;
}
