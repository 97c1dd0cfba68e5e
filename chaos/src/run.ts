import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { plantedBugsMainPath } from '@fastpaca/server/testing';
import { TestCluster } from '@fastpaca/server/testing/cluster';
import { startTestDatabase, type TestDatabase } from '@fastpaca/server/testing/postgres';
import { checkAll } from './checkers/index.js';
import type { Anomaly, FinalLog, Op, StreamRecord } from './history.js';
import { type Executed, Nemesis, type NemesisKind, type Step, schedule, type Target } from './nemesis.js';
import { Rng } from './rng.js';
import { CHAOS_API_KEY, chaosClient, type Endpoint, StreamWatcher, textOf, Workload } from './workload.js';

export interface ChaosOptions {
  readonly nodes: number;
  /** Seconds of faults and workload. */
  readonly durationS: number;
  readonly nemesis: readonly NemesisKind[];
  /** Whom faults aim at (default: random nodes mostly, some group leaders and coordinators). */
  readonly targets?: readonly Target[];
  readonly seed: number;
  readonly contexts: number;
  readonly clients: number;
  /** The workload stops after this many operations even if time remains. */
  readonly maxOps: number;
  /** Bugs planted in every node (see the server's `planted-bugs.ts`); empty in real runs. */
  readonly plantedBugs: readonly string[];
  /**
   * Run the planted bugs' test entry point (default when bugs are named).
   * False runs the production entry point with FASTPACA_TEST_PLANTED_BUGS set
   * all the same, which must change nothing.
   */
  readonly plantedEntry?: boolean;
  /**
   * Archive to Postgres (embedded, or a new database at FASTPACA_TEST_DATABASE_URL),
   * with 100 messages kept in memory, so reads page from the archive and its
   * contents are checked against the log.
   */
  readonly archive?: boolean;
  /** Where the history, the schedule and the node logs go. */
  readonly outDir: string;
  readonly log: (line: string) => void;
}

export interface ChaosResult {
  readonly seed: number;
  readonly anomalies: readonly Anomaly[];
  readonly schedule: readonly Step[];
  readonly executed: readonly Executed[];
  readonly stats: ChaosStats;
  readonly ops: readonly Op[];
  readonly streams: readonly StreamRecord[];
  readonly finals: readonly FinalLog[];
}

export interface ChaosStats {
  readonly ops: number;
  readonly byKindAndOutcome: Record<string, number>;
  /** Errors callers saw, by kind: an HTTP status, `timeout` (no answer) or `network` (connection refused or reset). */
  readonly errors: Record<string, number>;
  readonly appendsAcknowledged: number;
  /** The longest time no append was acknowledged anywhere, while the workload ran. */
  readonly longestWriteGapMs: number;
  readonly streamResets: number;
  readonly wallS: number;
}

/**
 * One chaos run: a cluster of real server processes on loopback behind a
 * fault proxy, clients and stream subscribers through every node, a nemesis
 * schedule drawn from the seed, then every fault healed, final reads and the
 * checkers.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const rng = new Rng(o.seed);
  const steps = schedule(rng.fork(), o.nemesis, o.durationS * 1000, o.targets);
  const smallDisks = o.nemesis.includes('disk-full') && mountSmallDisksPossible();
  const mounted: string[] = [];
  mkdirSync(o.outDir, { recursive: true });
  const logs = new Map<string, string[]>();

  const database = o.archive ? await startTestDatabase() : undefined;
  const cluster = await TestCluster.start({
    nodes: o.nodes,
    proxied: true,
    env: {
      FASTPACA_API_KEY: CHAOS_API_KEY,
      FASTPACA_LOG_LEVEL: 'info',
      // Short enough that a long kill re-replicates groups during the run.
      FASTPACA_NODE_DOWN_AFTER_S: '10',
      FASTPACA_REQUEST_TIMEOUT_MS: '4000',
      ...(o.plantedBugs.length > 0 && { FASTPACA_TEST_PLANTED_BUGS: o.plantedBugs.join(',') }),
      ...(database && {
        FASTPACA_ARCHIVER_ENABLED: 'true',
        MIGRATE_ON_BOOT: 'true',
        DATABASE_URL: database.url,
        FASTPACA_ARCHIVE_FLUSH_INTERVAL_MS: '500',
        FASTPACA_TAIL_KEEP: '100',
      }),
    },
    ...(o.plantedBugs.length > 0 && o.plantedEntry !== false && { entry: plantedBugsMainPath }),
    ...(smallDisks && {
      prepareDataDir: (dir: string) => {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', dir]);
        mounted.push(dir);
      },
    }),
  });
  const keepLog = (i: number) => {
    const node = cluster.nodes[i]!;
    const output = node.server?.output();
    if (output) logs.set(node.name, [...(logs.get(node.name) ?? []), output]);
  };

  const contexts = Array.from({ length: o.contexts }, (_, i) => `chaos-${o.seed}-${i}`);
  const setup = chaosClient(cluster.nodes[0]!.url);
  for (const id of contexts) await setup.context(id, { budget: 1_000_000 });

  let endpoints: Endpoint[] = [];
  const nemesis: Nemesis = new Nemesis({
    cluster,
    rng: rng.fork(),
    contexts,
    now: () => workload.history.now(),
    smallDisks,
    onMembershipChange: () => {
      endpoints = nemesis
        .members()
        .map((i) => ({ node: cluster.nodes[i]!.name, url: cluster.nodes[i]!.url }));
    },
    beforeKill: keepLog,
    log: o.log,
  });
  endpoints = nemesis.members().map((i) => ({ node: cluster.nodes[i]!.name, url: cluster.nodes[i]!.url }));
  const workload: Workload = new Workload({
    endpoints: () => endpoints,
    contexts,
    clients: o.clients,
    rng: rng.fork(),
    maxOps: o.maxOps,
  });
  const watchers = contexts.flatMap((ctx, i) =>
    endpoints.map((e, j) => new StreamWatcher(`s${i}-${j}`, ctx, e)),
  );

  const supervisor = new Supervisor(cluster, nemesis, keepLog, o.log);
  let result: ChaosResult | undefined;
  try {
    supervisor.start();
    workload.start();
    // Faults take longer than planned (a restart waits for readiness): the duration, not the plan, ends them.
    const faults = nemesis.run(steps);
    await sleep(o.durationS * 1000);
    nemesis.stop();
    await faults;
    o.log('healing: every link restored, every node running');
    const unready = await heal(cluster, nemesis, supervisor);
    // A short quiet period with the workload still running, so writes resume after the last fault.
    await sleep(3_000);
    await workload.stop();

    const { finals, unavailable } = await finalLogs(cluster, nemesis.members(), contexts);
    await waitForStreams(watchers, finals);
    const streams = (await Promise.all(watchers.map((w) => w.stop()))).flat();
    const anomalies = [
      ...checkAll({ ops: workload.history.ops, streams, finals }),
      ...finals.flatMap(disagreements),
      ...unready,
      ...unavailable,
      ...(database ? await checkArchive(database, cluster, nemesis.members(), finals) : []),
    ];
    result = {
      seed: o.seed,
      anomalies,
      schedule: steps,
      executed: nemesis.executed,
      stats: stats(workload.history.ops, watchers, started),
      ops: workload.history.ops,
      streams,
      finals: finals.map(({ context, texts, version }) => ({ context, texts, version })),
    };
    return result;
  } finally {
    await supervisor.stop();
    nemesis.stop();
    await workload.stop();
    for (const w of watchers) await w.stop();
    cluster.nodes.forEach((_, i) => {
      keepLog(i);
    });
    writeArtifacts(o.outDir, result, logs);
    for (const n of cluster.nodes) n.server?.child.kill('SIGCONT');
    await Promise.all(cluster.nodes.map((_, i) => cluster.kill(i)));
    for (const dir of mounted) {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {}
    }
    await cluster.stop();
    await database?.stop();
  }
}

/**
 * Once every context's archive has caught up with its log (`archived_seq` =
 * `last_seq`, within 30 s), the archive must hold exactly the log: seqs 1..n,
 * each with the log's text.
 */
async function checkArchive(
  database: TestDatabase,
  cluster: TestCluster,
  members: readonly number[],
  finals: readonly FinalLog[],
): Promise<Anomaly[]> {
  const out: Anomaly[] = [];
  const url = cluster.nodes[members[0]!]!.url;
  const deadline = Date.now() + 30_000;
  for (const final of finals) {
    const handle = chaosClient(url).contextHandle(final.context);
    let archived = 0;
    for (;;) {
      archived = (await handle.get().catch(() => undefined))?.archived_seq ?? archived;
      if (archived >= final.texts.length || Date.now() > deadline) break;
      await sleep(250);
    }
    if (archived < final.texts.length) {
      out.push({
        checker: 'archive',
        context: final.context,
        message: `archived_seq ${archived} of ${final.texts.length} messages 30 s after healing`,
        ops: [],
      });
    }
    const rows = await database.query<{ seq: string; text: string | null }>(
      "SELECT seq, parts->0->>'text' AS text FROM messages WHERE context_id = $1 ORDER BY seq",
      [final.context],
    );
    const problems: string[] = [];
    rows.forEach((row, i) => {
      const seq = Number(row.seq);
      if (seq !== i + 1) problems.push(`row ${i + 1} has seq ${seq}`);
      else if (row.text !== final.texts[seq - 1])
        problems.push(`seq ${seq} is ${row.text} in the archive, ${final.texts[seq - 1]} in the log`);
    });
    if (rows.length > final.texts.length)
      problems.push(`${rows.length} rows for ${final.texts.length} messages`);
    if (rows.length < archived) problems.push(`${rows.length} rows but archived_seq is ${archived}`);
    if (problems.length > 0) {
      out.push({
        checker: 'archive',
        context: final.context,
        message: problems.slice(0, 5).join('; '),
        ops: [],
      });
    }
  }
  return out;
}

/**
 * What an orchestrator does: a node whose liveness probe answers 503 (its
 * storage failed, e.g. on a full disk) is restarted, as a Kubernetes
 * liveness probe or systemd's `Restart=on-failure` would. A node that does not
 * answer at all (paused, partitioned) is left alone.
 */
class Supervisor {
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  restarts = 0;

  constructor(
    private readonly cluster: TestCluster,
    private readonly nemesis: Nemesis,
    private readonly keepLog: (i: number) => void,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        // Concurrently: a restart waits for readiness, which may need another node restarted.
        for (const i of this.nemesis.members()) if (!this.nemesis.touching.has(i)) void this.check(i);
        await sleep(1_000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    while (this.busy.size > 0) await sleep(100);
  }

  private readonly busy = new Set<number>();

  /** Restarts node `i` if it is down or says it is not live, unless a fault is acting on it. */
  async check(i: number): Promise<void> {
    const { touching } = this.nemesis;
    if (this.busy.has(i) || touching.has(i)) return;
    this.busy.add(i);
    try {
      const node = this.cluster.nodes[i]!;
      let why = 'down';
      if (node.server) {
        const res = await fetch(`${node.url}/health/live`, { signal: AbortSignal.timeout(1_000) }).catch(
          () => undefined,
        );
        if (res?.status !== 503) return;
        why = await res.text();
      }
      // The nemesis leaves a node alone while the supervisor restarts it, and the other way round.
      if (touching.has(i)) return;
      touching.add(i);
      try {
        await this.restart(i, why);
      } finally {
        touching.delete(i);
      }
    } finally {
      this.busy.delete(i);
    }
  }

  private async restart(i: number, why: string): Promise<void> {
    const node = this.cluster.nodes[i]!;
    this.log(`supervisor: restarting ${node.name}: ${why}`);
    if (node.server) {
      this.keepLog(i);
      await this.cluster.kill(i);
    }
    this.restarts++;
    try {
      await this.cluster.startNode(i);
    } catch (error) {
      this.log(`supervisor: ${node.name} did not start: ${(error as Error).message.split('\n')[0]}`);
      node.server = undefined;
    }
  }
}

/**
 * Every fault undone: links healed, paused nodes resumed, dead or failed
 * nodes restarted. A member not ready within 60 s is a liveness anomaly.
 */
async function heal(cluster: TestCluster, nemesis: Nemesis, supervisor: Supervisor): Promise<Anomaly[]> {
  cluster.proxy!.heal();
  for (const i of nemesis.members()) cluster.nodes[i]!.server?.child.kill('SIGCONT');
  const deadline = Date.now() + 60_000;
  const unready: Anomaly[] = [];
  for (const i of nemesis.members()) {
    const node = cluster.nodes[i]!;
    for (;;) {
      if (!node.server) await supervisor.check(i);
      const res = await fetch(`${node.url}/health/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
        () => undefined,
      );
      if (res?.ok) break;
      if (Date.now() > deadline) {
        const why = res ? await res.text() : 'no answer';
        unready.push({
          checker: 'liveness',
          context: '*',
          message: `${node.name} not ready 60 s after every fault was healed: ${why}`,
          ops: [],
        });
        break;
      }
      await sleep(500);
    }
  }
  return unready;
}

interface NodeFinal extends FinalLog {
  /** The same history as every member serves it, to compare replicas. */
  readonly byNode: ReadonlyMap<string, readonly string[]>;
}

/**
 * Each context's whole log, read through every member once the cluster is
 * healthy. A member that cannot serve it within 30 s is a liveness anomaly.
 */
async function finalLogs(cluster: TestCluster, members: readonly number[], contexts: readonly string[]) {
  const finals: NodeFinal[] = [];
  const unavailable: Anomaly[] = [];
  // One deadline for all: a node that cannot serve one context usually cannot serve the next.
  const deadline = Date.now() + 30_000;
  for (const context of contexts) {
    const byNode = new Map<string, string[]>();
    let version: number | undefined;
    for (const i of members) {
      const node = cluster.nodes[i]!;
      const handle = chaosClient(node.url).contextHandle(context);
      for (;;) {
        try {
          const texts: string[] = [];
          for await (const m of handle.history()) texts.push(textOf(m));
          version ??= (await handle.get()).version;
          byNode.set(node.name, texts);
          break;
        } catch (error) {
          if (Date.now() < deadline) continue;
          unavailable.push({
            checker: 'liveness',
            context,
            message: `${node.name} could not serve the history within 30 s of healing: ${(error as Error).message}`,
            ops: [],
          });
          break;
        }
      }
    }
    const texts = byNode.values().next().value;
    if (texts && version !== undefined) finals.push({ context, texts, version, byNode });
  }
  return { finals, unavailable };
}

/** Replicas must serve the same history once healthy. */
function disagreements(final: NodeFinal): Anomaly[] {
  const [first, ...rest] = [...final.byNode.entries()];
  if (!first) return [];
  const out: Anomaly[] = [];
  for (const [node, texts] of rest) {
    if (texts.length !== first[1].length || texts.some((t, i) => t !== first[1][i])) {
      const at = texts.findIndex((t, i) => t !== first[1][i]);
      out.push({
        checker: 'replicas',
        context: final.context,
        message: `${node} serves ${texts.length} messages, ${first[0]} ${first[1].length}; first difference at seq ${at + 1}`,
        ops: [],
      });
    }
  }
  return out;
}

/** Gives stream subscribers up to 30 s to deliver every message of the final logs. */
async function waitForStreams(
  watchers: readonly StreamWatcher[],
  finals: readonly FinalLog[],
): Promise<void> {
  const lengths = new Map(finals.map((f) => [f.context, f.texts.length]));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (watchers.every((w) => w.lastSeq >= (lengths.get(w.context) ?? 0))) return;
    await sleep(200);
  }
}

function stats(ops: readonly Op[], watchers: readonly StreamWatcher[], started: number): ChaosStats {
  const byKindAndOutcome: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const op of ops) {
    const key = `${op.kind} ${op.outcome}`;
    byKindAndOutcome[key] = (byKindAndOutcome[key] ?? 0) + 1;
    if (op.outcome !== 'ok') {
      const kind =
        op.status !== undefined && op.status > 0
          ? String(op.status)
          : /no answer within/.test(op.error ?? '')
            ? 'timeout'
            : 'network';
      errors[kind] = (errors[kind] ?? 0) + 1;
    }
  }
  const acked = ops
    .filter((op) => op.kind === 'append' && op.outcome === 'ok')
    .map((op) => op.complete)
    .sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < acked.length; i++) longest = Math.max(longest, acked[i]! - acked[i - 1]!);
  return {
    ops: ops.length,
    byKindAndOutcome,
    errors,
    appendsAcknowledged: acked.length,
    longestWriteGapMs: Math.round(longest),
    streamResets: watchers.reduce((n, w) => n + w.resets, 0),
    wallS: Math.round((Date.now() - started) / 1000),
  };
}

/**
 * Writes what a run leaves behind, smallest and most important first (a huge
 * history must not cost the verdict): anomalies and schedule, then the
 * history and stream records one line per item, then the node logs.
 */
function writeArtifacts(outDir: string, result: ChaosResult | undefined, logs: Map<string, string[]>): void {
  if (result) {
    writeFileSync(join(outDir, 'anomalies.json'), JSON.stringify(result.anomalies, null, 2));
    writeFileSync(
      join(outDir, 'schedule.json'),
      JSON.stringify(
        { seed: result.seed, stats: result.stats, planned: result.schedule, executed: result.executed },
        null,
        2,
      ),
    );
    writeLines(join(outDir, 'history.jsonl'), result.ops);
    writeLines(join(outDir, 'streams.jsonl'), result.streams);
  }
  for (const [name, outputs] of logs)
    writeFileSync(join(outDir, `${name}.log`), outputs.join('\n--- restart\n'));
}

function writeLines(path: string, items: readonly unknown[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const item of items) writeSync(fd, `${JSON.stringify(item)}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Small filesystems for disk-full need root (mount); without it the fault is skipped, and says so. */
function mountSmallDisksPossible(): boolean {
  return process.getuid?.() === 0;
}
