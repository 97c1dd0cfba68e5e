import type { Entry, HardState } from '../../raft/index.js';
import {
  MODE_INSTALL,
  REC_ENTRIES,
  REC_HARD_STATE,
  REC_REMOVE,
  REC_REPLICA,
  REC_SNAPSHOT,
  type ScannedFrame,
  type SnapshotRecord,
  type WalRecord,
} from './wal-format.js';

/** A snapshot file as the log records it. */
export interface SnapshotRef {
  readonly index: number;
  readonly term: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly file: string;
  /** CRC-32 and length of the file's bytes (unknown for version-1 records). */
  readonly checksum: number | undefined;
  readonly size: number | undefined;
}

export interface ReplayedGroup {
  hard: HardState | undefined;
  snap: SnapshotRef | undefined;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[];
  /** Index of the first entry after the snapshot, and of the last one (snapshot index when empty). */
  first: number;
  last: number;
  replica: string | undefined;
}

export interface ReplayedSegment {
  readonly path: string;
  readonly frames: readonly ScannedFrame[];
}

export interface Replayed {
  readonly groups: Map<number, ReplayedGroup>;
  /** Groups removed and not recreated since, with the term each removed replica reached. */
  readonly tombstones: Map<number, number>;
  /** Per segment (in order): the highest entry index each live group wrote into it. */
  readonly maxIndex: Map<number, number>[];
}

/** Why a replayed log does not fit together, with the file and offset of the frame that broke it. */
export class ReplayError extends Error {
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function snapshotRef(rec: SnapshotRecord): SnapshotRef {
  const [, , , index, term, voters, learners, file, checksum, size] = rec;
  return { index, term, voters, learners, file, checksum, size };
}

/**
 * Rebuilds every group's durable state from the frames of the retained
 * segments, in order. Two passes: the first finds, per group, where its
 * current incarnation starts (its last removal: records before it belong to a
 * replica that was removed, possibly with a newer snapshot than the one the
 * group was re-added with) and its newest snapshot since (the oldest retained
 * segment may start with a checkpoint older than the snapshot that allowed the
 * segments before it to be deleted; entries that snapshot covers are skipped
 * rather than reported as a gap).
 */
export function replay(segments: readonly ReplayedSegment[]): Replayed {
  const lastRemoval = new Map<number, number>();
  const floor = new Map<number, number>();
  let position = 0;
  for (const { frames } of segments) {
    for (const { records } of frames) {
      for (const rec of records) {
        position++;
        if (rec[0] === REC_REMOVE) {
          lastRemoval.set(rec[1], position);
          floor.delete(rec[1]);
        } else if (rec[0] === REC_SNAPSHOT) {
          floor.set(rec[1], rec[3]);
        }
      }
    }
  }
  const out: Replayed = { groups: new Map(), tombstones: new Map(), maxIndex: [] };
  // (Tombstones are kept until the group has durable state again: see the end.)
  position = 0;
  for (const segment of segments) {
    const maxIndex = new Map<number, number>();
    out.maxIndex.push(maxIndex);
    for (const { at, records } of segment.frames) {
      for (const rec of records) {
        position++;
        const removedAt = lastRemoval.get(rec[1]) ?? 0;
        if (position < removedAt) continue;
        const problem = apply(out, rec, floor.get(rec[1]) ?? 0, maxIndex);
        if (problem) throw new ReplayError(segment.path, at, problem);
      }
    }
  }
  // A removed group's tombstone stands until its new replica has a hard state or snapshot: one that
  // only recorded its id is not a group yet, and without the tombstone the node could found it anew.
  for (const [group, g] of out.groups) if (g.hard || g.snap) out.tombstones.delete(group);
  return out;
}

function apply(
  out: Replayed,
  rec: WalRecord,
  floor: number,
  maxIndex: Map<number, number>,
): string | undefined {
  const group = rec[1];
  if (rec[0] === REC_REMOVE) {
    out.groups.delete(group);
    out.tombstones.set(group, rec[2] ?? 0);
    return undefined;
  }
  let state = out.groups.get(group);
  if (!state) {
    state = {
      hard: undefined,
      snap: undefined,
      entries: [],
      first: floor + 1,
      last: floor,
      replica: undefined,
    };
    out.groups.set(group, state);
  }
  const entries = state.entries;
  switch (rec[0]) {
    case REC_ENTRIES: {
      const first = rec[2];
      const count = rec[3].length;
      maxIndex.set(group, Math.max(maxIndex.get(group) ?? 0, first + count - 1));
      // Writing at `first` replaces every stored entry from there on.
      if (first - state.first < entries.length) entries.length = Math.max(0, first - state.first);
      state.last = state.first + entries.length - 1;
      const from = Math.max(first, floor + 1);
      if (from > first + count - 1) return undefined;
      if (from > state.last + 1)
        return `entries of group ${group} from ${from} leave a gap after ${state.last}`;
      for (let k = from - first; k < count; k++) {
        const [term, kind, data] = rec[3][k]!;
        entries.push({ index: first + k, term, type: kind === 1 ? 'conf_change' : 'normal', data });
      }
      state.last = state.first + entries.length - 1;
      return undefined;
    }
    case REC_HARD_STATE:
      state.hard = { term: rec[2], vote: rec[3], commit: rec[4] };
      return undefined;
    case REC_REPLICA:
      state.replica = rec[2];
      return undefined;
    case REC_SNAPSHOT: {
      const snap = snapshotRef(rec);
      state.snap = snap;
      if (rec[2] === MODE_INSTALL) {
        // A leader's snapshot replaces the log: entries from before it are gone.
        entries.length = 0;
        state.last = state.first - 1;
      } else if (snap.index > floor) {
        return `snapshot of group ${group} at ${snap.index} is newer than the newest one (${floor})`;
      }
      return undefined;
    }
    default:
      return `unknown record type ${String((rec as unknown[])[0])}`;
  }
}
