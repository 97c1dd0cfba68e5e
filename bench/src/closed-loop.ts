/**
 * A closed-loop load generator over node:http: `concurrency` workers each send
 * one request at a time. Latency is client-observed; node CPU is summed over
 * the given processes during the measured window only.
 */
import { Agent, request } from 'node:http';
import * as hdr from 'hdr-histogram-js';
import { cpuSeconds, peakRssBytes } from './process-stats.js';

export interface LoadShape {
  readonly concurrency: number;
  readonly warmup_s: number;
  readonly seconds: number;
}

export interface LoadResult {
  name: string;
  ops: number;
  p50: number;
  p95: number;
  p99: number;
  /** All node processes together, % of one core. */
  cpu_percent: number;
  cpu_us_per_op: number;
  /** The largest node's peak RSS. */
  peak_rss_bytes: number;
  /** This process (the load generator), % of one core. */
  loadgen_cpu_percent: number;
  max: number;
  errors: number;
}

/**
 * Keep-alive sockets, one per worker and node: `fetch` cost this process more
 * CPU per request than the nodes spent, which capped the baselines' rate.
 */
export function keepAliveAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency });
}

/** POSTs `body` and resolves with the status once the response has been read. */
export function post(
  agent: Agent,
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `send` in a closed loop; `send` resolves true for a success. */
export async function closedLoop(
  name: string,
  shape: LoadShape,
  send: (worker: number, op: number) => Promise<boolean>,
  pids: number[],
): Promise<LoadResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let measuring = false;
  let stop = false;
  let ops = 0;
  let errors = 0;
  const workers = Array.from({ length: shape.concurrency }, async (_, w) => {
    let op = 0;
    while (!stop) {
      const started = process.hrtime.bigint();
      const ok = await send(w, op++).catch(() => false);
      const micros = Number(process.hrtime.bigint() - started) / 1000;
      if (!measuring) continue;
      if (ok) {
        ops++;
        histogram.recordValue(Math.max(1, Math.round(micros)));
      } else errors++;
    }
  });
  await new Promise((r) => setTimeout(r, shape.warmup_s * 1000));
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const cpuStart = cpu();
  const loadgenStart = process.cpuUsage();
  const wallStart = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, shape.seconds * 1000));
  measuring = false;
  const cpuUsed = cpu() - cpuStart;
  const loadgenUsed = process.cpuUsage(loadgenStart);
  const wall = (performance.now() - wallStart) / 1000;
  stop = true;
  await Promise.all(workers);
  return {
    name,
    ops: ops / shape.seconds,
    p50: histogram.getValueAtPercentile(50) / 1000,
    p95: histogram.getValueAtPercentile(95) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    max: histogram.maxValue / 1000,
    errors,
    cpu_percent: (100 * cpuUsed) / wall,
    cpu_us_per_op: ops > 0 ? (cpuUsed / ops) * 1e6 : Number.NaN,
    peak_rss_bytes: Math.max(...pids.map(peakRssBytes)),
    loadgen_cpu_percent: (100 * (loadgenUsed.user + loadgenUsed.system)) / 1e6 / wall,
  };
}
