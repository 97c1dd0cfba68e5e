/**
 * The benchmark suite: every scenario against fastpaca and its baselines in
 * one run, on one machine, printed as markdown and appended to RESULTS.md.
 *
 *   npm run bench                  quick profile (a few minutes on 2 cores)
 *   npm run bench -- --full        longer runs, 1M-message restart, 3 rounds where it helps
 *   npm run bench -- --only append,window --dry-run
 *
 * The root script builds the server first; this runner builds nothing and
 * expects `server/dist`. Scenarios: append, mixed, window, restart, fanout,
 * cluster. `--dry-run` prints without appending to RESULTS.md. `--profile`
 * records a CPU profile of fastpaca's main thread over each measured window
 * of the HTTP scenarios and adds where the time went (the profiler costs a
 * little throughput, so use it for the breakdown, not for the headline).
 *
 * Environment: FASTPACA_BENCH_DATABASE_URL (use this Postgres instead of an
 * embedded one), FASTPACA_BENCH_REDIS_URL (default redis://127.0.0.1:6379;
 * the Redis baseline is skipped with the reason printed when it is absent).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serverMainPath } from '@fastpaca/server/testing';
import { appendScenario } from './append-scenario.js';
import { clusterScenario } from './cluster-scenario.js';
import { fanoutScenario } from './fanout-scenario.js';
import { type FsyncLatency, measureFsync } from './fsync-probe.js';
import { LoadGenerator } from './load-client.js';
import { mixedScenario } from './mixed-scenario.js';
import { type PostgresInstance, startPostgres } from './postgres-instance.js';
import { probeRedis } from './redis-instance.js';
import { f2, type ScenarioReport, type SummaryRow, table } from './report-format.js';
import { restartScenario } from './restart-scenario.js';
import { appendResults, resultsPath } from './results-file.js';
import { fastpacaTarget, noopTarget, postgresTarget, redisTarget, type Target } from './targets.js';
import { windowReadScenario } from './window-read-scenario.js';
import { default_seed } from './workload.js';

const scenario_names = ['append', 'mixed', 'window', 'restart', 'fanout', 'cluster'] as const;
type ScenarioName = (typeof scenario_names)[number];

const { values: args } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});

const only = args.only?.split(',').map((s) => s.trim()) ?? [...scenario_names];
for (const name of only) {
  if (!(scenario_names as readonly string[]).includes(name))
    throw new Error(`--only: unknown scenario ${name} (known: ${scenario_names.join(', ')})`);
}
const selected = (name: ScenarioName) => only.includes(name);

const quick = {
  append: { connections: 64, warmup_s: 2, duration_s: 6, rounds: 1 },
  mixed: { contexts: 1_000, history: 100, connections: 64, read_share: 0.8, warmup_s: 2, duration_s: 6 },
  window: { histories: [1_000, 10_000, 100_000], connections: 8, warmup_s: 1, duration_s: 3, rounds: 1 },
  restart: { messages: [100_000], contexts: 1_000, connections: 64 },
  fanout: { subscribers: 500, rate: 1_000, warmup_s: 3, duration_s: 8, rounds: 1 },
  cluster: { seconds: 5, warmup_s: 2, concurrency: 64 },
};
const full: typeof quick = {
  append: { connections: 64, warmup_s: 5, duration_s: 15, rounds: 3 },
  mixed: { ...quick.mixed, warmup_s: 5, duration_s: 20 },
  window: { ...quick.window, warmup_s: 2, duration_s: 8, rounds: 3 },
  restart: { ...quick.restart, messages: [100_000, 1_000_000] },
  fanout: { ...quick.fanout, warmup_s: 5, duration_s: 20, rounds: 3 },
  cluster: { seconds: 10, warmup_s: 3, concurrency: 64 },
};
const profile = args.full ? full : quick;
const profileName = args.full ? 'full' : 'quick';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A git command's output; leading spaces are kept, because `status --porcelain` lines start with them. */
function git(...gitArgs: string[]): string {
  try {
    return execFileSync('git', gitArgs, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trimEnd();
  } catch {
    return '';
  }
}

/** The commit, and the top-level folders with uncommitted changes, so a reader knows what was measured. */
function commitLine(): string {
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = new Set(
    git('status', '--porcelain')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3).split('/')[0]!),
  );
  return dirty.size > 0 ? `${commit} (with uncommitted changes in: ${[...dirty].sort().join(', ')})` : commit;
}

function machineLines(fsync: FsyncLatency): string[] {
  const cpus = os.cpus();
  return [
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
      `Node ${process.version}, ${os.platform()} ${os.release()}; load average ${os.loadavg()[0]!.toFixed(2)} at start.`,
    `Disk: ${fsync.count} × (4 KiB write + fdatasync) in the temporary directory where the servers keep their data: ` +
      `p50 ${f2(fsync.p50_ms)} ms, p99 ${f2(fsync.p99_ms)} ms, max ${f2(fsync.max_ms)} ms.`,
  ];
}

function assertBuilt(): void {
  const raftNode = join(repoRoot, 'server', 'dist', 'testing', 'raft-test-node.js');
  for (const path of [serverMainPath, raftNode]) {
    if (!existsSync(path))
      throw new Error(
        `${path} is missing: build the server first (npx nx run @fastpaca/server:build), or use npm run bench`,
      );
  }
}

async function main(): Promise<number> {
  assertBuilt();
  const started = performance.now();
  const date = new Date().toISOString();
  const fsync = measureFsync(os.tmpdir());
  const header = [
    `### Run ${date}, ${profileName} profile`,
    '',
    `Command: \`npm run bench${args.full ? ' -- --full' : ''}\`${args.only ? ` (only ${only.join(', ')})` : ''}` +
      `${args.profile ? ' with --profile' : ''}  `,
    `Commit: ${commitLine()}  `,
    ...machineLines(fsync).map((l) => `${l}  `),
  ];
  console.log(header.join('\n'));

  const loadgen = LoadGenerator.start();
  const reports: ScenarioReport[] = [];
  const failures: string[] = [];
  let postgres: PostgresInstance | undefined;
  const baselineNotes: string[] = [];
  const timings: string[] = [];
  const run = async (name: ScenarioName, scenario: () => Promise<ScenarioReport>) => {
    if (!selected(name)) return;
    console.log(`\n${name} ...`);
    const t0 = performance.now();
    try {
      reports.push(await scenario());
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`${name} failed: ${message}`);
      failures.push(`${name}: ${message.split('\n')[0]}`);
    }
    timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  };
  try {
    const profileDir = args.profile ? mkdtempSync(join(os.tmpdir(), 'fastpaca-bench-profile-')) : undefined;
    if (profileDir) {
      console.log(`CPU profiles: ${profileDir}`);
      baselineNotes.push(
        "Profiled run: fastpaca's main thread is profiled over each measured window (breakdowns below).",
      );
    }
    const targets: Target[] = [fastpacaTarget(loadgen, profileDir), noopTarget()];
    if (selected('append') || selected('mixed') || selected('window')) {
      try {
        postgres = await startPostgres();
        targets.push(postgresTarget(postgres));
        baselineNotes.push(`Postgres baseline: ${postgres.description}.`);
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0];
        baselineNotes.push(`Postgres baseline skipped: ${reason}.`);
        console.error(`Postgres baseline skipped: ${(error as Error).message}`);
      }
      const redis = await probeRedis();
      if ('skipped' in redis) baselineNotes.push(`Redis baseline skipped: ${redis.skipped}.`);
      else {
        targets.push(redisTarget(redis));
        baselineNotes.push(
          `Redis baseline: ${redis.description}${redis.pid ? '' : '; its CPU is not measured'}.`,
        );
      }
      for (const note of baselineNotes) console.log(note);
    }
    await run('append', () => appendScenario(targets, loadgen, { ...profile.append, seed: default_seed }));
    await run('mixed', () => mixedScenario(targets, loadgen, { ...profile.mixed, seed: default_seed }));
    await run('window', () =>
      windowReadScenario(targets, loadgen, { ...profile.window, seed: default_seed }),
    );
    await postgres?.stop();
    postgres = undefined;
    await run('restart', () => restartScenario(loadgen, { ...profile.restart, seed: default_seed }));
    await run('fanout', () => fanoutScenario(profile.fanout));
    await run('cluster', () => clusterScenario(profile.cluster));
  } finally {
    loadgen.close();
    await postgres?.stop();
  }

  const summary: SummaryRow[] = reports.flatMap((r) => r.summary);
  const minutes = (performance.now() - started) / 60_000;
  const markdown = [
    ...header,
    ...baselineNotes.map((n) => `${n}  `),
    `Took ${minutes.toFixed(1)} min (${timings.join(', ')}).`,
    '',
    table(
      ['scenario', 'fastpaca', 'baseline', 'ratio (fastpaca ÷ baseline)', 'target', 'met?'],
      summary.map((s) => [s.scenario, s.result, s.baseline, s.ratio, s.target, s.met]),
    ),
    ...(failures.length > 0 ? ['', ...failures.map((f) => `- **Did not complete:** ${f}`)] : []),
    ...reports.flatMap((r) => ['', `#### ${r.title}`, '', r.markdown]),
    '',
  ].join('\n');
  console.log(`\n${markdown}`);
  if (!args['dry-run']) {
    appendResults(markdown);
    console.log(`Appended to ${resultsPath}.`);
  }
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
