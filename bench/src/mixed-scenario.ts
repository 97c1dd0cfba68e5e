/**
 * Scenario 2, mixed: 1,000 contexts, each filled with some history first;
 * then every request picks a context at random (seeded) and reads its LLM
 * window (80 %) or appends a message (20 %).
 */
import type { LoadGenerator } from './load-client.js';
import {
  contentionLine,
  eachTarget,
  loadTable,
  type Measurement,
  measure,
  profileSections,
  progressLine,
  storedCheck,
} from './load-table.js';
import { f0, f2, ratio, type ScenarioReport, type SummaryRow, table } from './report-format.js';
import { createContexts, probeWindow, storedMessages, type Target } from './targets.js';

export interface MixedOptions {
  contexts: number;
  /** Messages appended to each context before the run. */
  history: number;
  connections: number;
  read_share: number;
  warmup_s: number;
  duration_s: number;
  seed: number;
}

export async function mixedScenario(
  targets: Target[],
  loadgen: LoadGenerator,
  options: MixedOptions,
): Promise<ScenarioReport> {
  const ids = Array.from({ length: options.contexts }, (_, i) => `mixed-${i}`);
  const rows: Measurement[] = [];
  const checks: string[] = [];
  const windows: string[] = [];
  const failures = await eachTarget('mixed', targets, async (target, running) => {
    await createContexts(running, ids);
    await running.fill(ids, options.history, options.seed);
    const before = await storedMessages(running, ids);
    const w = await probeWindow(running, ids[0]!);
    windows.push(`${target.short} ${w.messages} messages / ${f0(w.bytes)} bytes`);
    const m = await measure(target, running, loadgen, {
      kind: 'mixed',
      base_url: running.url,
      contexts: ids,
      connections: options.connections,
      read_share: options.read_share,
      warmup_s: options.warmup_s,
      duration_s: options.duration_s,
      seed: options.seed,
    });
    checks.push(storedCheck(m, (await storedMessages(running, ids)) - before, options.connections));
    rows.push(m);
    console.log(progressLine(m));
  });

  const fastpaca = rows.find((m) => m.target.short === 'fastpaca');
  const summary: SummaryRow[] = [];
  if (fastpaca) {
    for (const m of rows) {
      if (m === fastpaca) continue;
      summary.push({
        scenario: `2. mixed ${Math.round(options.read_share * 100)} % reads, ${f0(options.contexts)} contexts`,
        result: `${f0(fastpaca.load.ok_per_s)} req/s, p99 ${f2(fastpaca.load.latency.p99_ms)} ms`,
        baseline: `${m.target.short}: ${f0(m.load.ok_per_s)} req/s, p99 ${f2(m.load.latency.p99_ms)} ms`,
        ratio: ratio(fastpaca.load.ok_per_s / m.load.ok_per_s),
        target: '—',
        met: '—',
      });
    }
  }
  const split = table(
    ['target', 'reads/s', 'read p50 / p99 ms', 'appends/s', 'append p50 / p99 ms', 'mean response bytes'],
    rows.map((m) => [
      m.target.name,
      f0((m.load.reads?.count ?? 0) / m.load.duration_s),
      `${f2(m.load.reads?.p50_ms ?? Number.NaN)} / ${f2(m.load.reads?.p99_ms ?? Number.NaN)}`,
      f0((m.load.appends?.count ?? 0) / m.load.duration_s),
      `${f2(m.load.appends?.p50_ms ?? Number.NaN)} / ${f2(m.load.appends?.p99_ms ?? Number.NaN)}`,
      f0(m.load.response_bytes_mean),
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
  const markdown = [
    `${f0(options.contexts)} contexts, each filled with ${options.history} messages before the run ` +
      `(fastpaca through its HTTP API, the baselines in bulk); ${options.connections} connections, closed loop; ` +
      `each request picks a context uniformly at random (seeded) and reads its window ` +
      `(${Math.round(options.read_share * 100)} %) or appends (${Math.round((1 - options.read_share) * 100)} %); ` +
      `${options.warmup_s} s warm-up excluded, ${options.duration_s} s measured.`,
    `Window of a filled context before the run: ${windows.join('; ')}.`,
    '',
    loadTable(rows, fastpaca),
    '',
    split,
    '',
    `Stored vs acknowledged appends (warm-up included): ${checks.join('; ')}.`,
    contentionLine(rows),
    ...profileSections(rows),
    ...failures,
  ].join('\n');
  return { title: 'Scenario 2: mixed reads and appends', markdown, summary };
}
