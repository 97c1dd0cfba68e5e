/**
 * Runs one load spec against a running target while sampling its CPU and
 * memory, and turns a scenario's measurements into its markdown table.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { breakdownTable, type ProfileBreakdown, summarizeProfile } from './cpu-profile-summary.js';
import type { LoadGenerator } from './load-client.js';
import type { LoadResult, LoadSpec } from './load-protocol.js';
import { f0, f1, f2, mib, ratio, table } from './report-format.js';
import type { RunningTarget, Target } from './targets.js';
import { type Usage, UsageWindow } from './usage-window.js';

/**
 * Starts each target in turn, runs `body` against it and stops it. A target
 * that fails is reported (the returned notes) and the others still run.
 */
export async function eachTarget(
  scenario: string,
  targets: Target[],
  body: (target: Target, running: RunningTarget) => Promise<void>,
): Promise<string[]> {
  const failures: string[] = [];
  for (const target of targets) {
    console.log(`  ${scenario}: ${target.name} ...`);
    try {
      const running = await target.start();
      try {
        await body(target, running);
      } finally {
        await running.stop();
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`  ${scenario}: ${target.name} failed: ${message}`);
      failures.push(`- **${target.name} did not complete:** ${message.split('\n')[0]}`);
    }
  }
  return failures;
}

export interface Measurement {
  target: Target;
  load: LoadResult;
  usage: Usage;
  /** The service's main thread during the measured window, when it was profiled. */
  profile?: ProfileBreakdown;
}

const profiles_taken = new Map<number, number>();
const profile_write_timeout_ms = 20_000;

/** Asks a profiling service to start (first signal) or stop and write (second signal) a CPU profile. */
function toggleProfile(running: RunningTarget): void {
  if (running.profile_dir) process.kill(running.pid, 'SIGUSR2');
}

async function collectProfile(running: RunningTarget): Promise<ProfileBreakdown | undefined> {
  if (!running.profile_dir) return undefined;
  const n = (profiles_taken.get(running.pid) ?? 0) + 1;
  profiles_taken.set(running.pid, n);
  const file = join(running.profile_dir, `server-${running.pid}-${n}.cpuprofile`);
  const deadline = Date.now() + profile_write_timeout_ms;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no CPU profile at ${file}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The file appears before it is complete; a short pause lets the synchronous write finish.
  await new Promise((r) => setTimeout(r, 200));
  return summarizeProfile(file);
}

export async function measure(
  target: Target,
  running: RunningTarget,
  loadgen: LoadGenerator,
  spec: LoadSpec,
): Promise<Measurement> {
  let window: UsageWindow | undefined;
  const load = await loadgen.run(spec, () => {
    window = new UsageWindow({ service: running.pid, db: running.db_pid, loadgen: loadgen.pid });
    toggleProfile(running);
  });
  if (!window) throw new Error('measure: the load generator never started its measured phase');
  const usage = window.stop();
  toggleProfile(running);
  const profile = await collectProfile(running);
  return { target, load, usage, ...(profile ? { profile } : {}) };
}

/** CPU seconds of the service and its database per successful request, in microseconds. */
export const cpuPerRequestUs = (m: Measurement) =>
  ((m.usage.service_cpu_s + (m.usage.db_cpu_s ?? 0)) / m.load.ok) * 1e6;
export const mainThreadPerRequestUs = (m: Measurement) => (m.usage.main_thread_cpu_s / m.load.ok) * 1e6;

/** The one-line progress report of a closed-loop measurement. */
export const progressLine = (m: Measurement) =>
  `    ${f0(m.load.ok_per_s)} req/s, p99 ${f2(m.load.latency.p99_ms)} ms, ` +
  `main thread ${f1(mainThreadPerRequestUs(m))} µs/req, failed ${m.load.failed}`;
const percentOfCore = (cpu_s: number | undefined, m: Measurement) =>
  cpu_s === undefined ? 'n/a' : f0((100 * cpu_s) / m.usage.wall_s);

/**
 * One row per target: throughput, latency, failures, CPU (service, database,
 * per request) and peak memory, and how fastpaca compares with each baseline.
 */
export function loadTable(rows: Measurement[], fastpaca: Measurement | undefined): string {
  const header = [
    'target',
    'ok req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'failed',
    'service CPU %',
    'DB CPU %',
    'CPU µs/req (service+DB)',
    'main thread µs/req',
    'service peak RSS',
    'fastpaca ÷ this: req/s',
    'fastpaca ÷ this: CPU/req',
  ];
  const body = rows.map((m) => {
    const isFastpaca = m === fastpaca;
    return [
      m.target.name,
      f0(m.load.ok_per_s),
      f2(m.load.latency.p50_ms),
      f2(m.load.latency.p95_ms),
      f2(m.load.latency.p99_ms),
      String(m.load.failed),
      percentOfCore(m.usage.service_cpu_s, m),
      percentOfCore(m.usage.db_cpu_s, m),
      f1(cpuPerRequestUs(m)) + (m.target.database && m.usage.db_cpu_s === undefined ? ' (service only)' : ''),
      f1(mainThreadPerRequestUs(m)),
      mib(m.usage.service_peak_rss_bytes),
      isFastpaca || !fastpaca ? '—' : ratio(fastpaca.load.ok_per_s / m.load.ok_per_s),
      isFastpaca || !fastpaca ? '—' : ratio(cpuPerRequestUs(fastpaca) / cpuPerRequestUs(m)),
    ];
  });
  return table(header, body, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

/**
 * Every acknowledged append must be stored; requests still in flight when the
 * warm-up and the measured phase ended may add up to one per connection each.
 */
export function storedCheck(m: Measurement, stored: number, connections: number): string {
  const acked = m.load.appends_acked_including_warmup;
  const consistent = stored >= acked && stored <= acked + 2 * connections;
  return `${m.target.short}: ${f0(acked)} acknowledged, ${f0(stored)} stored${consistent ? '' : ' **(MISMATCH)**'}`;
}

/** The CPU profile breakdown of each profiled measurement, in µs per request. */
export function profileSections(rows: Measurement[]): string[] {
  return rows.flatMap((m) =>
    m.profile
      ? [
          '',
          `CPU profile of ${m.target.short}'s main thread over the measured window (V8 sampling profiler, 1 ms ` +
            'interval, which costs the server a few per cent). Frames without a category of their own (JSON.parse, ' +
            'socket writes) are charged to their caller:',
          '',
          breakdownTable(m.profile, m.load.ok),
        ]
      : [],
  );
}

/** Load generator CPU and machine contention per target, to judge how noisy the numbers are. */
export function contentionLine(rows: Measurement[]): string {
  return (
    'Load generator CPU / service main thread waiting for a CPU / machine CPU pressure (PSI some), % of the window: ' +
    rows
      .map(
        (m) =>
          `${m.target.short} ${f0((100 * m.usage.loadgen_cpu_s) / m.usage.wall_s)} / ${f0(m.usage.run_queue_wait_percent)} / ` +
          `${f0(m.usage.machine_cpu_stall_percent)}`,
      )
      .join('; ') +
    '.'
  );
}
