/**
 * Scenario 3, window-read latency against history length: three contexts
 * with 1k, 10k and 100k messages of history and the same window (the newest
 * messages that fit 4,000 tokens, at most 100). Each is read in turn by a few
 * closed-loop connections. The SPEC requires that reads do not grow with
 * history: the 100k read should stay within 1.5× of the 1k read.
 */
import type { LoadGenerator } from './load-client.js';
import {
  cpuPerRequestUs,
  eachTarget,
  type Measurement,
  mainThreadPerRequestUs,
  measure,
  profileSections,
} from './load-table.js';
import { f0, f1, f2, ratio, type ScenarioReport, type SummaryRow, table, verdict } from './report-format.js';
import { createContexts, probeWindow, type Target } from './targets.js';

export interface WindowReadOptions {
  histories: number[];
  connections: number;
  warmup_s: number;
  duration_s: number;
  /** Rounds over all histories; each history's median round (by p50) is reported. */
  rounds: number;
  seed: number;
}

const growth_max = 1.5;

interface SizeResult {
  history: number;
  window: { messages: number; used_tokens: number; bytes: number };
  m: Measurement;
}

function median(ms: Measurement[]): Measurement {
  return [...ms].sort((a, b) => a.load.latency.p50_ms - b.load.latency.p50_ms)[
    Math.floor((ms.length - 1) / 2)
  ]!;
}

export async function windowReadScenario(
  targets: Target[],
  loadgen: LoadGenerator,
  options: WindowReadOptions,
): Promise<ScenarioReport> {
  const results = new Map<Target, SizeResult[]>();
  const failures = await eachTarget('window read', targets, async (target, running) => {
    const ids = options.histories.map((h) => `history-${h}`);
    await createContexts(running, ids);
    for (const [i, h] of options.histories.entries()) await running.fill([ids[i]!], h, options.seed + i);
    const windows = await Promise.all(ids.map((id) => probeWindow(running, id)));
    const rounds: Measurement[][] = options.histories.map(() => []);
    for (let r = 0; r < options.rounds; r++) {
      for (const [i, id] of ids.entries()) {
        rounds[i]!.push(
          await measure(target, running, loadgen, {
            kind: 'read',
            base_url: running.url,
            contexts: [id],
            connections: options.connections,
            warmup_s: options.warmup_s,
            duration_s: options.duration_s,
            seed: options.seed,
          }),
        );
      }
    }
    const sizes = options.histories.map((history, i) => ({
      history,
      window: windows[i]!,
      m: median(rounds[i]!),
    }));
    for (const s of sizes)
      console.log(
        `    history ${f0(s.history)}: p50 ${f2(s.m.load.latency.p50_ms)} ms, ${f0(s.m.load.ok_per_s)} req/s, ` +
          `${f1(mainThreadPerRequestUs(s.m))} µs/req main thread, window ${s.window.messages} messages`,
      );
    results.set(target, sizes);
  });

  const rows: string[][] = [];
  for (const [target, sizes] of results) {
    const first = sizes[0]!;
    for (const s of sizes) {
      rows.push([
        target.name,
        f0(s.history),
        `${s.window.messages} / ${f0(s.window.used_tokens)} / ${f0(s.window.bytes)}`,
        f0(s.m.load.ok_per_s),
        f2(s.m.load.latency.p50_ms),
        f2(s.m.load.latency.p95_ms),
        f2(s.m.load.latency.p99_ms),
        String(s.m.load.failed),
        f1(cpuPerRequestUs(s.m)),
        f1(mainThreadPerRequestUs(s.m)),
        ratio(s.m.load.latency.p50_ms / first.m.load.latency.p50_ms),
        ratio(cpuPerRequestUs(s.m) / cpuPerRequestUs(first.m)),
      ]);
    }
  }
  const smallest = options.histories[0]!;
  const largest = options.histories[options.histories.length - 1]!;
  const fastpacaEntry = [...results].find(([t]) => t.short === 'fastpaca');
  const summary: SummaryRow[] = [];
  const comparisons: string[] = [];
  if (fastpacaEntry) {
    const sizes = fastpacaEntry[1];
    const small = sizes[0]!.m;
    const large = sizes[sizes.length - 1]!.m;
    const p50Growth = large.load.latency.p50_ms / small.load.latency.p50_ms;
    const cpuGrowth = cpuPerRequestUs(large) / cpuPerRequestUs(small);
    summary.push({
      scenario: `3. window read, ${f0(largest)} vs ${f0(smallest)} history`,
      result: `p50 ${f2(large.load.latency.p50_ms)} ms, ${f1(cpuPerRequestUs(large))} µs CPU/req at ${f0(largest)}`,
      baseline: `fastpaca at ${f0(smallest)}: p50 ${f2(small.load.latency.p50_ms)} ms, ${f1(cpuPerRequestUs(small))} µs CPU/req`,
      ratio: `p50 ${ratio(p50Growth)}, CPU/req ${ratio(cpuGrowth)}`,
      target: `≤ ${growth_max}×`,
      met: verdict(p50Growth <= growth_max && cpuGrowth <= growth_max),
    });
    for (const [target, other] of results) {
      if (target.short === 'fastpaca') continue;
      const o = other[other.length - 1]!.m;
      const r = large.load.ok_per_s / o.load.ok_per_s;
      comparisons.push(
        `${target.short}: fastpaca ÷ ${target.short} at ${f0(largest)} history: req/s ${ratio(r)}, ` +
          `p50 ${ratio(large.load.latency.p50_ms / o.load.latency.p50_ms)}, CPU/req ${ratio(cpuPerRequestUs(large) / cpuPerRequestUs(o))}`,
      );
      summary.push({
        scenario: `3. window read at ${f0(largest)} history`,
        result: `${f0(large.load.ok_per_s)} req/s, p50 ${f2(large.load.latency.p50_ms)} ms`,
        baseline: `${target.short}: ${f0(o.load.ok_per_s)} req/s, p50 ${f2(o.load.latency.p50_ms)} ms`,
        ratio: ratio(r),
        target: '—',
        met: '—',
      });
    }
  }
  const markdown = [
    `Contexts with ${options.histories.map(f0).join(', ')} messages of history (filled before measuring), same window. ` +
      `${options.connections} closed-loop connections read one context's window at a time; ${options.warmup_s} s warm-up ` +
      `excluded, ${options.duration_s} s measured, ${options.rounds} round(s) over all histories (median round by p50 shown). ` +
      'The no-op route answers a prebuilt window of the same size whatever the history.',
    '',
    table(
      [
        'target',
        'history',
        'window messages / tokens / bytes',
        'ok req/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'failed',
        'CPU µs/req (service+DB)',
        'main thread µs/req',
        `p50 ÷ p50 at ${f0(smallest)}`,
        `CPU/req ÷ at ${f0(smallest)}`,
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    ...comparisons.map((c) => `- ${c}`),
    // One profile is enough here: the largest history's, to show where a read's time goes.
    ...profileSections(fastpacaEntry ? [fastpacaEntry[1][fastpacaEntry[1].length - 1]!.m] : []),
    ...failures,
  ].join('\n');
  return { title: 'Scenario 3: window-read latency vs history', markdown, summary };
}
