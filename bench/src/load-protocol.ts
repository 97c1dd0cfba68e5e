/** Messages between the benchmark runner and its load generator process (over the IPC channel). */

export type LoadKind =
  /** Closed loop; connection i appends to `contexts[i % contexts.length]`. */
  | 'append'
  /** Closed loop; connection i reads the window of `contexts[i % contexts.length]`. */
  | 'read'
  /** Closed loop; each request reads a window (share `read_share`) or appends, to a seeded random context. */
  | 'mixed'
  /** `amount` appends spread round-robin over `contexts`, as fast as the target takes them (not measured). */
  | 'fill';

export interface LoadSpec {
  kind: LoadKind;
  /** e.g. `http://127.0.0.1:4000`; routes are fastpaca's (`/v1/contexts/:id/...`), which every target serves. */
  base_url: string;
  contexts: string[];
  connections: number;
  warmup_s: number;
  duration_s: number;
  /** `fill` only. */
  amount?: number;
  /** `mixed` only: the share of window reads, in [0, 1]. */
  read_share?: number;
  seed: number;
}

export interface LatencySummary {
  count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

export interface LoadResult {
  /** Wall time of the measured phase. */
  duration_s: number;
  /** Responses with the expected status (201 for appends, 200 for reads). */
  ok: number;
  ok_per_s: number;
  latency: LatencySummary;
  /** `mixed` only: reads (200) and appends (201) separately. */
  reads?: LatencySummary;
  appends?: LatencySummary;
  /** Every status code seen, with counts. */
  statuses: Record<string, number>;
  /** Responses with any other status, connection errors and timeouts. */
  failed: number;
  /** 201s of the warm-up and the measured phase together: what the target must have stored. */
  appends_acked_including_warmup: number;
  /** Mean response size on the wire, headers included. */
  response_bytes_mean: number;
}

export type ToLoadGenerator = { type: 'run'; spec: LoadSpec } | { type: 'exit' };

export type FromLoadGenerator =
  | { type: 'measuring' }
  | { type: 'result'; result: LoadResult }
  | { type: 'failed'; message: string };
