/**
 * Scenario 1, hot-path append: 64 keep-alive connections, each appending
 * ~300-byte messages to its own context as fast as the target answers
 * (closed loop). A 2xx from fastpaca means the entry is fsynced.
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
import { f0, f2, ratio, type ScenarioReport, type SummaryRow, verdict } from './report-format.js';
import { createContexts, storedMessages, type Target } from './targets.js';

export interface AppendOptions {
  connections: number;
  warmup_s: number;
  duration_s: number;
  seed: number;
}

/** Targets from the brief: at least 0.6× the no-op route's throughput, and p99 within 25 ms. */
const throughput_ratio_min = 0.6;
const p99_ms_max = 25;

export async function appendScenario(
  targets: Target[],
  loadgen: LoadGenerator,
  options: AppendOptions,
): Promise<ScenarioReport> {
  const ids = Array.from({ length: options.connections }, (_, i) => `append-${i}`);
  const rows: Measurement[] = [];
  const checks: string[] = [];
  const failures = await eachTarget('append', targets, async (target, running) => {
    await createContexts(running, ids);
    const before = await storedMessages(running, ids);
    const m = await measure(target, running, loadgen, {
      kind: 'append',
      base_url: running.url,
      contexts: ids,
      connections: options.connections,
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
    const result = `${f0(fastpaca.load.ok_per_s)} req/s, p99 ${f2(fastpaca.load.latency.p99_ms)} ms`;
    for (const m of rows) {
      if (m === fastpaca) continue;
      const r = fastpaca.load.ok_per_s / m.load.ok_per_s;
      const isCeiling = m.target.short === 'no-op';
      summary.push({
        scenario: '1. append, 64 connections',
        result,
        baseline: `${m.target.short}: ${f0(m.load.ok_per_s)} req/s, p99 ${f2(m.load.latency.p99_ms)} ms`,
        ratio: ratio(r),
        target: isCeiling ? `≥ ${throughput_ratio_min}× no-op and p99 ≤ ${p99_ms_max} ms` : '—',
        met: isCeiling
          ? `throughput ${verdict(r >= throughput_ratio_min)}, p99 ${verdict(fastpaca.load.latency.p99_ms <= p99_ms_max)}`
          : '—',
      });
    }
  }
  const markdown = [
    `${options.connections} connections, one context per connection, ~300-byte text messages (seeded), ` +
      `closed loop; ${options.warmup_s} s warm-up excluded, ${options.duration_s} s measured. ` +
      'Baselines count tokens with the same estimator as fastpaca (tiktoken o200k); the no-op route does not.',
    '',
    loadTable(rows, fastpaca),
    '',
    `Stored vs acknowledged (warm-up included): ${checks.join('; ')}.`,
    contentionLine(rows),
    ...profileSections(rows),
    ...failures,
  ].join('\n');
  return { title: 'Scenario 1: hot-path append', markdown, summary };
}
