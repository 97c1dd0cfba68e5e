import { parseArgs } from 'node:util';
import { minimalReport } from './checkers/index.js';
import { NEMESIS_KINDS, type NemesisKind } from './nemesis.js';
import { runChaos } from './run.js';

const usage = `usage: npm run chaos -- [--nodes 3] [--duration 300] [--nemesis ${NEMESIS_KINDS.join(',')}]
                      [--seed N] [--contexts 4] [--clients 12] [--max-ops 1000000] [--out DIR]
                      [--archive] [--planted-bug NAME]...`;

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n${usage}\n`);
  process.exit(2);
}

function int(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    duration: { type: 'string' },
    nemesis: { type: 'string' },
    seed: { type: 'string' },
    contexts: { type: 'string' },
    clients: { type: 'string' },
    'max-ops': { type: 'string' },
    out: { type: 'string' },
    'planted-bug': { type: 'string', multiple: true },
    archive: { type: 'boolean' },
    help: { type: 'boolean' },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const nemesis = (values.nemesis ?? NEMESIS_KINDS.join(',')).split(',').filter((k) => k !== '');
for (const kind of nemesis)
  if (!(NEMESIS_KINDS as readonly string[]).includes(kind)) fail(`unknown nemesis ${kind}`);
const seed = int('seed', values.seed, Math.floor(Math.random() * 1_000_000), 0);
const out = values.out ?? `chaos-runs/seed-${seed}`;

// A harness bug must not end a long run before its logs and history are written: report it and go on.
process.on('unhandledRejection', (error) => {
  process.stderr.write(
    `chaos: unhandled rejection in the harness: ${String((error as Error)?.stack ?? error)}\n`,
  );
});

const result = await runChaos({
  nodes: int('nodes', values.nodes, 3, 3),
  durationS: int('duration', values.duration, 300, 5),
  nemesis: nemesis as NemesisKind[],
  seed,
  contexts: int('contexts', values.contexts, 4, 1),
  clients: int('clients', values.clients, 12, 1),
  maxOps: int('max-ops', values['max-ops'], 1_000_000, 1),
  plantedBugs: values['planted-bug'] ?? [],
  archive: values.archive === true,
  outDir: out,
  log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});

const s = result.stats;
process.stdout.write(
  [
    `seed ${seed}: ${s.ops} operations in ${s.wallS} s, ${s.appendsAcknowledged} appends acknowledged`,
    `  outcomes: ${JSON.stringify(s.byKindAndOutcome)}`,
    `  errors: ${JSON.stringify(s.errors)}`,
    `  longest time without an acknowledged append: ${s.longestWriteGapMs} ms; stream resets: ${s.streamResets}`,
    `  faults: ${result.executed.length} (${[...new Set(result.executed.map((e) => e.kind))].join(', ')})`,
    `  final logs: ${result.finals.map((f) => `${f.context}=${f.texts.length}`).join(' ')}`,
    `  history, schedule and node logs in ${out}`,
    '',
  ].join('\n'),
);
if (result.anomalies.length > 0) {
  process.stdout.write(
    `${result.anomalies.length} ANOMALIES (seed ${seed}):\n${minimalReport(result.anomalies)}\n`,
  );
  process.stdout.write(
    `schedule:\n${result.executed.map((e) => `  ${Math.round(e.start)} ms: ${e.description}`).join('\n')}\n`,
  );
  process.stdout.write(
    `replay: npm run chaos -- --seed ${seed} --nemesis ${nemesis.join(',')} --duration ${values.duration ?? 300}${values.archive ? ' --archive' : ''}\n`,
  );
  process.exit(1);
}
process.stdout.write('no anomalies\n');
process.exit(0);
