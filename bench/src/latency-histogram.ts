/**
 * A mergeable latency histogram: 0.01 ms buckets from -100 ms to 200 ms, then
 * 1 ms buckets up to 60 s (anything beyond lands in the last bucket; the exact
 * maximum is kept separately). Subscriber processes each fill one and the
 * orchestrator merges them, since percentiles of parts cannot be combined.
 */
const fine_min_ms = -100;
const fine_max_ms = 200;
const fine_step_ms = 0.01;
const coarse_max_ms = 60_000;
const fine_buckets = Math.round((fine_max_ms - fine_min_ms) / fine_step_ms);
const bucket_count = fine_buckets + (coarse_max_ms - fine_max_ms);

/** Non-empty buckets as `[index, count]` pairs, for sending between processes. */
export type SparseHistogram = { buckets: [number, number][]; max_ms: number; min_ms: number; count: number };

export class LatencyHistogram {
  private readonly counts = new Uint32Array(bucket_count);
  count = 0;
  max_ms = Number.NEGATIVE_INFINITY;
  min_ms = Number.POSITIVE_INFINITY;

  record(ms: number): void {
    this.counts[indexOf(ms)]!++;
    this.count++;
    if (ms > this.max_ms) this.max_ms = ms;
    if (ms < this.min_ms) this.min_ms = ms;
  }

  merge(other: SparseHistogram): void {
    for (const [i, n] of other.buckets) this.counts[i]! += n;
    this.count += other.count;
    this.max_ms = Math.max(this.max_ms, other.max_ms);
    this.min_ms = Math.min(this.min_ms, other.min_ms);
  }

  toSparse(): SparseHistogram {
    const buckets: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { buckets, max_ms: this.max_ms, min_ms: this.min_ms, count: this.count };
  }

  /** The upper edge of the bucket holding the `p`-th percentile (0 < p ≤ 100). */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdge(i), this.max_ms);
    }
    return this.max_ms;
  }
}

function indexOf(ms: number): number {
  if (ms < fine_min_ms) return 0;
  if (ms < fine_max_ms) return Math.floor((ms - fine_min_ms) / fine_step_ms);
  return Math.min(bucket_count - 1, fine_buckets + Math.floor(ms - fine_max_ms));
}

function upperEdge(index: number): number {
  if (index < fine_buckets) return fine_min_ms + (index + 1) * fine_step_ms;
  return fine_max_ms + (index - fine_buckets + 1);
}
