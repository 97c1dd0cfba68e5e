#!/usr/bin/env node
import { BUG_NAMES, type BugName } from '../raft/bugs.js';
import { PROFILES } from './scenario.js';
import { runSeed } from './simulator.js';

/**
 * Runs simulation seeds N..N+K-1 and reports failures with the exact command
 * that replays them.
 *
 *   npm run sim -- --seed 1 --seeds 500
 *   npm run sim -- --seed 42 --seeds 1 --verbose
 */
interface CliArgs {
  seed: number;
  seeds: number;
  verbose: boolean;
  bugs: BugName[];
  profile: string;
}

const USAGE = `usage: sim [--seed N] [--seeds K] [--verbose] [--profile ${Object.keys(PROFILES).join('|')}] [--bug NAME]...`;

function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { seed: 1, seeds: 100, verbose: false, bugs: [], profile: 'mixed' };
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
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--profile') {
      const p = value();
      if (!(p in PROFILES))
        throw new Error(`unknown profile ${p}; one of ${Object.keys(PROFILES).join(', ')}`);
      args.profile = p;
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
  return args;
}

function main(): void {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  let failed = 0;
  let events = 0;
  const extraFlags =
    (args.profile === 'mixed' ? '' : ` --profile ${args.profile}`) +
    args.bugs.map((b) => ` --bug ${b}`).join('');
  for (let seed = args.seed; seed < args.seed + args.seeds; seed++) {
    const r = runSeed(seed, { bugs: args.bugs, trace: args.verbose, profile: args.profile });
    events += r.stats.events;
    if (args.verbose) {
      if (!r.ok) for (const line of r.trace) console.log(line);
      console.log(`seed ${seed}: ${r.ok ? 'ok' : 'FAILED'} — ${r.scenario}`);
      console.log(`  ${JSON.stringify(r.stats)}`);
    }
    if (!r.ok) {
      failed++;
      const f = r.failure!;
      const first = f.message.split('\n')[0];
      console.log(`FAIL seed ${seed} [${f.checker}] at ${f.timeMs.toFixed(1)}ms: ${first}`);
      console.log(`  replay: npm run sim -- --seed ${seed} --seeds 1 --verbose${extraFlags}`);
    }
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `${args.seeds} seeds (${args.seed}..${args.seed + args.seeds - 1}), ${failed} failed, ` +
      `${events} events in ${secs.toFixed(1)}s`,
  );
  if (failed > 0) process.exitCode = 1;
}

main();
