import { assert } from './errors.js';
import type { Entry, Snapshot } from './types.js';

/**
 * The in-memory log of one replica: the entries after `offset` (the last index
 * folded into the snapshot or discarded by compaction) in a plain array, so the
 * term of any index is one array read. The snapshot itself is kept to serve
 * lagging followers.
 *
 * Three cursors describe progress:
 * - `committed`: known to be replicated durably on a quorum;
 * - `applied`: handed to the state machine by `ready()`;
 * - `unstable`: the first index not yet handed to storage.
 * Durability itself (`stable`) is tracked by the node, which matches
 * write acknowledgements against pending truncations.
 */
export class RaftLog {
  offset: number;
  offsetTerm: number;
  entries: Entry[];
  snapshot: Snapshot;
  committed: number;
  applied: number;
  unstable: number;

  constructor(snapshot: Snapshot, entries: readonly Entry[], committed: number, applied: number) {
    this.snapshot = snapshot;
    this.offset = snapshot.meta.index;
    this.offsetTerm = snapshot.meta.term;
    // Storage may hand back entries the snapshot already covers; keep only the contiguous tail after it.
    const after = entries.filter((e) => e.index > snapshot.meta.index);
    for (let i = 0; i < after.length; i++) {
      assert(
        after[i]!.index === snapshot.meta.index + 1 + i,
        'restored entries are contiguous after the snapshot',
      );
      assert(i === 0 || after[i]!.term >= after[i - 1]!.term, 'restored entry terms never decrease');
      assert(after[i]!.term >= snapshot.meta.term, 'restored entries are not older than the snapshot');
    }
    this.entries = after;
    this.committed = Math.max(committed, snapshot.meta.index);
    assert(
      this.committed <= this.lastIndex(),
      `commit ${committed} is beyond the last index ${this.lastIndex()}`,
    );
    assert(
      applied >= snapshot.meta.index && applied <= this.committed,
      'applied lies between snapshot and commit',
    );
    this.applied = applied;
    this.unstable = this.lastIndex() + 1;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.term : this.offsetTerm;
  }

  /** The term at `index`, or undefined when it was compacted away or does not exist yet. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.offset + this.entries.length) return undefined;
    return this.entries[index - this.offset - 1]!.term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.offset) return undefined;
    return this.entries[index - this.offset - 1];
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi], cut after `maxBytes` of payload or `maxCount` entries,
   * but never empty when the range is not.
   */
  slice(lo: number, hi: number, maxBytes: number, maxCount: number): Entry[] {
    assert(lo > this.offset, `slice from ${lo} reaches into the compacted log (offset ${this.offset})`);
    const end = Math.min(hi, this.lastIndex());
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i <= end && out.length < maxCount; i++) {
      const e = this.entries[i - this.offset - 1]!;
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /**
   * Appends, replacing any suffix from `entries[0].index` on. Returns the index
   * the log was cut at, or 0 when nothing was replaced.
   */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return 0;
    const first = entries[0]!.index;
    assert(
      first > this.committed,
      `append at ${first} would overwrite committed entry (commit ${this.committed})`,
    );
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    let cut = 0;
    if (first <= this.lastIndex()) {
      this.entries.length = first - this.offset - 1;
      cut = first;
    }
    const prevTerm = this.lastTerm();
    assert(entries[0]!.term >= prevTerm, 'entry terms never decrease along the log');
    for (const e of entries) this.entries.push(e);
    if (this.unstable > first) this.unstable = first;
    return cut;
  }

  /** First index whose entry conflicts with (or is missing from) this log, or 0 if all match. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * For a reject hint: the first index of the run of entries of the same term
   * that ends at `index`, never below `floor`.
   */
  firstIndexOfTermAt(index: number, floor: number): number {
    const t = this.term(index);
    assert(t !== undefined, 'hint for a missing index');
    let i = index;
    while (i - 1 > this.offset && i - 1 >= floor && this.entries[i - 2 - this.offset]!.term === t) i--;
    return i;
  }

  /** The largest index ≤ `index` whose term is ≤ `term` (the offset if none is in memory). */
  lastIndexWithTermAtMost(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    while (i > this.offset && this.entries[i - this.offset - 1]!.term > term) i--;
    return i;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Hands out the entries not yet given to storage. */
  takeUnstable(): Entry[] {
    if (this.unstable <= this.offset) this.unstable = this.offset + 1;
    if (this.unstable > this.lastIndex()) return [];
    const out = this.entries.slice(this.unstable - this.offset - 1);
    this.unstable = this.lastIndex() + 1;
    return out;
  }

  hasUnstable(): boolean {
    return this.unstable <= this.lastIndex();
  }

  /**
   * The next entries to apply, up to `limit`, at most `maxBytes` of data (at
   * least one entry); `applied` moves past them.
   */
  takeToApply(limit: number, maxBytes: number): Entry[] {
    if (this.applied >= limit) return [];
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = this.applied + 1; i <= limit; i++) {
      const e = this.entry(i);
      if (e === undefined) break;
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    if (out.length > 0) this.applied = out[out.length - 1]!.index;
    return out;
  }

  /** Drops entries up to and including `index` from memory. */
  compactTo(index: number): void {
    if (index <= this.offset) return;
    assert(index <= this.applied, `compaction at ${index} beyond applied ${this.applied}`);
    const t = this.term(index);
    assert(t !== undefined, 'compaction index is in the log');
    this.entries = this.entries.slice(index - this.offset);
    this.offset = index;
    this.offsetTerm = t;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.offset = snapshot.meta.index;
    this.offsetTerm = snapshot.meta.term;
    this.entries = [];
    this.committed = snapshot.meta.index;
    this.applied = snapshot.meta.index;
    this.unstable = snapshot.meta.index + 1;
  }
}
