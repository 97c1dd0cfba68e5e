#!/usr/bin/env node
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BUG_NAMES, type BugName } from '../raft/bugs.js';
import { PROFILES } from './scenario.js';
import { runSeed, type SimResult } from './simulator.js';

/**
 * Runs simulation seeds and reports failures with the exact command that
 * replays them.
 *
 *   npm run sim -- --seed 1 --seeds 500                      # mixed profile, all cores
 *   npm run sim -- --profile all --seeds 1000                # every profile
 *   npm run sim -- --seed 42 --seeds 1 --profile storage -v  # replay one seed with its event trace
 *   npm run sim -- --bug commit_old_term --profile figure8   # watch a checker catch a bug
 */
interface CliArgs {
  seed: number;
  seeds: number;
  verbose: boolean;
  bugs: BugName[];
  profiles: string[];
  jobs: number;
}

/** Trace lines printed for a failing seed (the whole trace with --verbose). */
const TRACE_TAIL = 40;

const USAGE =
  `usage: sim [--seed N] [--seeds K] [--profile ${[...Object.keys(PROFILES), 'all'].join('|')}] ` +
  `[--jobs J] [--bug NAME]... [--verbose]`;

function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { seed: 1, seeds: 100, verbose: false, bugs: [], profiles: ['mixed'], jobs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string) => {
      if (!/^\d+$/.test(v)) throw new Error(`${a} must be a non-negative integer, got ${v}`);
      return Number(v);
    };
    if (a === '--seed') args.seed = int(value());
    else if (a === '--seeds') args.seeds = int(value());
    else if (a === '--jobs') args.jobs = int(value());
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--profile') {
      const p = value();
      if (p !== 'all' && !(p in PROFILES)) {
        throw new Error(`unknown profile ${p}; one of ${Object.keys(PROFILES).join(', ')}, all`);
      }
      args.profiles = p === 'all' ? Object.keys(PROFILES) : [p];
    } else if (a === '--bug') {
      const b = value();
      if (!(BUG_NAMES as readonly string[]).includes(b))
        throw new Error(`unknown bug ${b}; one of ${BUG_NAMES.join(', ')}`);
      args.bugs.push(b as BugName);
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (args.seeds < 1) throw new Error('--seeds must be at least 1');
  if (args.jobs === 0) args.jobs = args.verbose || args.seeds < 8 ? 1 : availableParallelism();
  return args;
}

export interface SeedJob {
  seed: number;
  profile: string;
  bugs: BugName[];
  trace: boolean;
}

/** Runs seeds on `jobs` worker threads (or in this thread for one job), in any order; calls `onResult` for each. */
async function runAll(
  work: SeedJob[],
  jobs: number,
  onResult: (job: SeedJob, r: SimResult) => void,
): Promise<void> {
  if (jobs <= 1) {
    for (const job of work)
      onResult(job, await runSeed(job.seed, { profile: job.profile, bugs: job.bugs, trace: job.trace }));
    return;
  }
  let next = 0;
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL('./sim-worker.js', import.meta.url));
      const feed = () => {
        if (next >= work.length) {
          void w.terminate().then(() => resolve());
          return;
        }
        w.postMessage(work[next++]);
      };
      w.on('message', ({ job, result }: { job: SeedJob; result: SimResult }) => {
        onResult(job, result);
        feed();
      });
      w.on('error', reject);
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(jobs, work.length) }, worker));
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const work: SeedJob[] = [];
  for (const profile of args.profiles) {
    for (let seed = args.seed; seed < args.seed + args.seeds; seed++) {
      work.push({ seed, profile, bugs: args.bugs, trace: args.verbose });
    }
  }
  const started = performance.now();
  let failed = 0;
  let done = 0;
  let events = 0;
  let lastReport = started;
  const bugFlags = args.bugs.map((b) => ` --bug ${b}`).join('');
  const failures: SeedJob[] = [];
  await runAll(work, args.jobs, (job, r) => {
    done++;
    events += r.stats.events;
    if (args.verbose) {
      if (!r.ok) for (const line of r.trace) console.log(line);
      console.log(`seed ${job.seed} (${job.profile}): ${r.ok ? 'ok' : 'FAILED'} — ${r.scenario}`);
      console.log(`  ${JSON.stringify(r.stats)}`);
    }
    if (!r.ok) {
      failed++;
      if (!args.verbose) failures.push(job);
      const f = r.failure!;
      console.log(
        `FAIL seed ${job.seed} (${job.profile}) [${f.checker}] at ${f.timeMs.toFixed(1)}ms: ${f.message.split('\n')[0]}`,
      );
      console.log(
        `  replay: npm run sim -- --seed ${job.seed} --seeds 1 --profile ${job.profile}${bugFlags} --verbose`,
      );
    }
    const now = performance.now();
    if (now - lastReport > 30_000) {
      lastReport = now;
      const secs = (now - started) / 1000;
      console.log(`  … ${done}/${work.length} seeds, ${failed} failed, ${(done / secs).toFixed(1)} seeds/s`);
    }
  });
  const secs = (performance.now() - started) / 1000;
  // Runs are deterministic: replaying a failing seed with tracing on shows how it got there.
  for (const job of failures.slice(0, 3)) {
    const r = await runSeed(job.seed, { profile: job.profile, bugs: job.bugs, trace: true });
    console.log(`\nseed ${job.seed} (${job.profile}), last ${TRACE_TAIL} events of its trace:`);
    for (const line of r.trace.slice(-TRACE_TAIL)) console.log(`  ${line}`);
  }
  console.log(
    `${work.length} seeds (${args.profiles.join(', ')}; ${args.seed}..${args.seed + args.seeds - 1}), ${failed} failed, ` +
      `${events} events in ${secs.toFixed(1)}s (${(work.length / secs).toFixed(1)} seeds/s, ${args.jobs} jobs)`,
  );
  if (failed > 0) process.exitCode = 1;
}

await main();
