/**
 * Scenario 4, restart-to-ready: fill a node with M messages across C
 * contexts over HTTP, then time how long it takes, from the old process's exit
 * until /health/ready answers, to restart
 *
 * 1. after kill -9: snapshots taken so far are loaded and the log written
 *    since them is replayed; every acknowledged append must still be there;
 * 2. after SIGTERM: groups snapshot on the way down, so only snapshots load.
 *
 * The baseline, in the same run, is the same two restarts of an empty node.
 *
 * Then the same again with the Postgres archive on (an embedded Postgres of
 * its own): once every message is archived, memory and snapshots hold only
 * each context's window and retained tail, so restart should stop growing
 * with history.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';
import type { LoadGenerator } from './load-client.js';
import { type PostgresInstance, startPostgres } from './postgres-instance.js';
import { rssBytes } from './process-stats.js';
import {
  f0,
  f2,
  mib,
  ratio,
  type ScenarioReport,
  type SummaryRow,
  seconds,
  table,
  verdict,
} from './report-format.js';
import { createContexts, storedMessages, sumOverContexts } from './targets.js';

export interface RestartOptions {
  /** History sizes to measure, e.g. [100_000] or [100_000, 1_000_000]. */
  messages: number[];
  contexts: number;
  connections: number;
  seed: number;
}

/** How the node is configured for one set of restarts. */
interface Variant {
  label: string;
  env: Record<string, string>;
  context: Record<string, unknown>;
  /** Waits, after the fill, until the node is in the state to measure. */
  settle?: (server: ServerProcess, ids: string[], acked: number) => Promise<number>;
}

export interface RestartRun {
  messages: number;
  fill_per_s: number;
  data_bytes: number;
  kill_ms: number;
  stop_ms: number;
  rss_after_restart_bytes: number;
  acked: number;
  stored_after_kill: number;
  /** Time from the end of the fill until everything was archived (archive variant only). */
  settle_ms?: number;
}

/** "Within seconds": the brief's target for 1,000,000 messages, read as at most 10 s. */
const restart_ms_max = 10_000;
const target_messages = 1_000_000;
/** Restart time is read from /health/ready, polled this often by the server harness. */
const ready_poll_ms = 50;

const base_env = { FASTPACA_TOKEN_ESTIMATOR: 'chars:4', FASTPACA_LOG_LEVEL: 'error' };
/** With the archive: messages kept in memory per context beyond the window. */
const archive_tail_keep = 100;
const archive_window_messages = 100;
/** ~75 tokens per message with chars:4, so the window compacts at ~93 messages (threshold 0.7 × budget). */
const archive_token_budget = 10_000;
const archive_settle_timeout_ms = 600_000;

// Manual compaction and a large budget: every message stays in the window too, the most state to restore.
const plain: Variant = {
  label: 'no archive, manual policy (every message stays in the window)',
  env: base_env,
  context: { token_budget: 100_000_000, policy: { strategy: 'manual' } },
};

function archived(postgres: PostgresInstance): Variant {
  return {
    label: `archive on, last_n ${archive_window_messages} with a ${f0(archive_token_budget)}-token budget, FASTPACA_TAIL_KEEP=${archive_tail_keep}`,
    env: {
      ...base_env,
      FASTPACA_ARCHIVER_ENABLED: 'true',
      DATABASE_URL: postgres.url,
      MIGRATE_ON_BOOT: 'true',
      FASTPACA_TAIL_KEEP: String(archive_tail_keep),
    },
    context: {
      token_budget: archive_token_budget,
      policy: { strategy: 'last_n', config: { limit: archive_window_messages } },
    },
    settle: async (server, ids, acked) => {
      const started = performance.now();
      while ((await sumOverContexts(fastpaca(server), ids, 'archived_seq')) < acked) {
        if (performance.now() - started > archive_settle_timeout_ms)
          throw new Error('the archive did not catch up in time');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return performance.now() - started;
    },
  };
}

/** A restarted server as the shared context helpers address it. */
const fastpaca = (server: ServerProcess) => ({ url: server.url, name: 'fastpaca' });

async function restart(
  server: ServerProcess,
  how: 'stop' | 'kill',
  env: Record<string, string>,
): Promise<{ ms: number; server: ServerProcess }> {
  if (how === 'stop') await server.stop();
  else await server.kill();
  const started = performance.now();
  const next = await startServerProcess({
    dataDir: server.dataDir,
    port: server.port,
    env,
    timeoutMs: 600_000,
  });
  return { ms: performance.now() - started, server: next };
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

export async function measureRestart(
  loadgen: LoadGenerator,
  options: RestartOptions,
  variant: Variant = plain,
): Promise<{ empty: { kill_ms: number; stop_ms: number }; runs: RestartRun[] }> {
  const { env } = variant;
  console.log(`  restart (${variant.label}): empty node ...`);
  let server = await startServerProcess({ env });
  const emptyKill = await restart(server, 'kill', env);
  const emptyStop = await restart(emptyKill.server, 'stop', env);
  await emptyStop.server.stop();
  emptyStop.server.cleanup();

  const ids = Array.from({ length: options.contexts }, (_, i) => `r${i}`);
  const runs: RestartRun[] = [];
  for (const messages of options.messages) {
    console.log(`  restart: ${f0(messages)} messages across ${f0(options.contexts)} contexts ...`);
    server = await startServerProcess({ env });
    try {
      await createContexts(fastpaca(server), ids, variant.context);
      const fill = await loadgen.run({
        kind: 'fill',
        base_url: server.url,
        contexts: ids,
        connections: options.connections,
        warmup_s: 0,
        duration_s: 0,
        amount: messages,
        seed: options.seed,
      });
      if (fill.failed > 0) throw new Error(`fill failed: ${JSON.stringify(fill.statuses)}`);
      const settleMs = await variant.settle?.(server, ids, fill.ok);
      const dataBytes = directoryBytes(server.dataDir);
      const afterKill = await restart(server, 'kill', env);
      server = afterKill.server;
      const stored = await storedMessages(fastpaca(server), ids);
      const afterStop = await restart(server, 'stop', env);
      server = afterStop.server;
      const run: RestartRun = {
        messages,
        fill_per_s: fill.ok_per_s,
        data_bytes: dataBytes,
        kill_ms: afterKill.ms,
        stop_ms: afterStop.ms,
        rss_after_restart_bytes: rssBytes(server.child.pid!),
        acked: fill.ok,
        stored_after_kill: stored,
        ...(settleMs !== undefined && { settle_ms: settleMs }),
      };
      console.log(
        `    after kill -9 ${seconds(run.kill_ms)}, after SIGTERM ${seconds(run.stop_ms)}; ` +
          `${f0(run.acked)} acknowledged, ${f0(run.stored_after_kill)} present after kill -9`,
      );
      runs.push(run);
    } finally {
      await server.stop();
      server.cleanup();
    }
  }
  return { empty: { kill_ms: emptyKill.ms, stop_ms: emptyStop.ms }, runs };
}

type Measured = Awaited<ReturnType<typeof measureRestart>> & { variant: Variant };

export async function restartScenario(
  loadgen: LoadGenerator,
  options: RestartOptions,
): Promise<ScenarioReport> {
  const measured: Measured[] = [{ variant: plain, ...(await measureRestart(loadgen, options, plain)) }];
  let postgres: PostgresInstance | undefined;
  let archiveSkipped: string | undefined;
  try {
    postgres = await startPostgres();
  } catch (error) {
    archiveSkipped = (error as Error).message.split('\n')[0];
  }
  if (postgres) {
    try {
      const variant = archived(postgres);
      measured.push({ variant, ...(await measureRestart(loadgen, options, variant)) });
    } finally {
      await postgres.stop();
    }
  }

  const header = ['restart', 'empty node (baseline)'];
  for (const m of options.messages) header.push(`${f0(m)} messages`, 'ratio to empty');
  const rows: string[][] = [];
  for (const { variant, empty, runs } of measured) {
    const row = (how: string, pick: (r: { kill_ms: number; stop_ms: number }) => number) => {
      const cells = [`${how}; ${variant.label}`, seconds(pick(empty))];
      for (const r of runs) cells.push(seconds(pick(r)), ratio(pick(r) / pick(empty)));
      return cells;
    };
    rows.push(
      row('after kill -9', (r) => r.kill_ms),
      row('after SIGTERM', (r) => r.stop_ms),
    );
  }

  const details: string[] = [];
  for (const { variant, runs } of measured) {
    for (const r of runs) {
      details.push(
        `- ${variant.label}, ${f0(r.messages)} messages: filled at ${f0(r.fill_per_s)} appends/s` +
          (r.settle_ms !== undefined ? `; archived ${seconds(r.settle_ms)} after the fill ended` : '') +
          `; ${mib(r.data_bytes)} on disk before the restarts; RSS ${mib(r.rss_after_restart_bytes)} after the second ` +
          `restart; ${f0(r.acked)} appends acknowledged, ${f0(r.stored_after_kill)} present after kill -9` +
          `${r.stored_after_kill === r.acked ? '' : ' **(MISMATCH)**'}.`,
      );
    }
    if (runs.length >= 2) {
      const a = runs[0]!;
      const b = runs[runs.length - 1]!;
      details.push(
        `- ${variant.label}: growth from ${f0(a.messages)} to ${f0(b.messages)} messages (${f2(b.messages / a.messages)}× ` +
          `history): after kill -9 ${ratio(b.kill_ms / a.kill_ms)}, after SIGTERM ${ratio(b.stop_ms / a.stop_ms)}.`,
      );
    }
  }
  if (archiveSkipped) details.push(`- The archive variant was skipped: ${archiveSkipped}.`);
  else if (postgres) details.push(`- Archive: ${postgres.description}.`);

  const summary: SummaryRow[] = measured.flatMap(({ variant, empty, runs }) =>
    runs.map((r) => {
      const atTarget = r.messages >= target_messages;
      return {
        scenario: `4. restart-to-ready, ${f0(r.messages)} messages / ${f0(options.contexts)} contexts, ${variant === plain ? 'no archive' : 'archive on'}`,
        result: `kill -9 ${seconds(r.kill_ms)}, SIGTERM ${seconds(r.stop_ms)}`,
        baseline: `empty node: ${seconds(empty.kill_ms)}, ${seconds(empty.stop_ms)}`,
        ratio: `${ratio(r.kill_ms / empty.kill_ms)}, ${ratio(r.stop_ms / empty.stop_ms)}`,
        target: `≤ ${restart_ms_max / 1000} s at ${f0(target_messages)} messages`,
        met: atTarget
          ? `kill -9 ${verdict(r.kill_ms <= restart_ms_max)}, SIGTERM ${verdict(r.stop_ms <= restart_ms_max)}`
          : `not judged (the target is at ${f0(target_messages)}; run --full)`,
      };
    }),
  );
  const markdown = [
    `Messages of ~300 bytes appended over HTTP by ${options.connections} connections across ${f0(options.contexts)} ` +
      "contexts; then kill -9 and restart, then SIGTERM and restart. Time from the old process's exit until " +
      `/health/ready answers (polled every ${ready_poll_ms} ms). Token estimator chars:4 (restart never re-counts ` +
      'tokens). Without the archive, every message stays in memory and in the snapshots (manual policy: in the ' +
      'window too, the most state to restore). With the archive, the restarts begin once everything is archived; ' +
      `memory then holds each context's window (at most ${archive_window_messages} messages, compacted by last_n ` +
      `when it passes 70 % of a ${f0(archive_token_budget)}-token budget) and ${archive_tail_keep} retained messages.`,
    '',
    table(header, rows, ['l', ...header.slice(1).map(() => 'r' as const)]),
    '',
    ...details,
  ].join('\n');
  return { title: 'Scenario 4: restart-to-ready', markdown, summary };
}
