/**
 * The product as a cluster: durable appends over HTTP (`POST
 * /v1/contexts/:id/messages`, fsynced on a quorum before the 201) to three
 * real server processes, beside a single node measured in the same run, then
 * a failover: the node leading the most groups is killed with SIGKILL under
 * load and each of its groups is timed until an append to it is acknowledged
 * again.
 *
 *   npm run -w @fastpaca/bench cluster -- [--seconds 10] [--warmup 3] [--concurrency 64] [--write]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { groupOf } from '../../server/src/placement/groups.js';
import { TestCluster } from '../../server/src/testing/cluster-process.js';
import { type ServerProcess, startServerProcess } from '../../server/src/testing/server-process.js';
import { closedLoop, keepAliveAgent, type LoadResult, post } from './closed-loop.js';
import { appendResults } from './results-file.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    write: { type: 'boolean', default: false },
  },
});
const shape = {
  concurrency: Number(values.concurrency),
  warmup_s: Number(values.warmup),
  seconds: Number(values.seconds),
};
const agent = keepAliveAgent(shape.concurrency * 3);
const env = { FASTPACA_TOKEN_ESTIMATOR: 'chars:4', FASTPACA_LOG_LEVEL: 'warn' };

/** One context id per group, so the load reaches every group. */
const contexts: string[] = [];
for (let i = 0, seen = new Set<number>(); seen.size < 256; i++) {
  const id = `bench-${i}`;
  if (seen.has(groupOf(id))) continue;
  seen.add(groupOf(id));
  contexts.push(id);
}

const body = (w: number, op: number) =>
  JSON.stringify({
    message: { role: 'user', parts: [{ type: 'text', text: `w${w} op${op} ${'x'.repeat(240)}` }] },
  });

async function createContexts(url: string): Promise<void> {
  for (const id of contexts) {
    const res = await fetch(`${url}/v1/contexts/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token_budget: 1_000_000 }),
    });
    if (!res.ok) throw new Error(`PUT ${id} via ${url}: ${res.status} ${await res.text()}`);
  }
}

let runs = 0;

/** Appends in a closed loop; each call gets its own idempotency keys, so nothing is a replay. */
function appendVia(url: (context: number, worker: number) => string) {
  const run = `${process.pid}-${runs++}`;
  return async (w: number, op: number) => {
    const c = (w * 7 + op) % contexts.length;
    const status = await post(agent, `${url(c, w)}/v1/contexts/${contexts[c]}/messages`, body(w, op), {
      'content-type': 'application/json',
      'idempotency-key': `${run}-${w}-${op}`,
    });
    return status === 201;
  };
}

interface View {
  nodes: { name: string }[];
  groups: { group: number; leader: string | null }[];
}

async function leaders(url: string): Promise<(string | null)[]> {
  const v = (await (await fetch(`${url}/v1/cluster`)).json()) as View;
  return v.groups.map((g) => g.leader);
}

async function settle(cluster: TestCluster): Promise<void> {
  // Leaders spread (the coordinator balances them) before anything is measured.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const led = await leaders(cluster.nodes[0]!.url);
    const counts = cluster.nodes.map((n) => led.filter((l) => l === n.name).length);
    if (led.every((l) => l !== null) && Math.min(...counts) >= 80) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const pidsOf = (servers: (ServerProcess | undefined)[]) => servers.map((s) => s!.child.pid!);

// ------------------------------------------------------------- single node
const single = await startServerProcess({ env });
let one: LoadResult;
try {
  await createContexts(single.url);
  one = await closedLoop(
    '1 node',
    shape,
    appendVia(() => single.url),
    pidsOf([single]),
  );
} finally {
  await single.stop();
  single.cleanup();
}

// ------------------------------------------------------------------ cluster
const cluster = await TestCluster.start({ nodes: 3, env });
let spread: LoadResult;
let direct: LoadResult;
const failover: { group: number; resumed_ms: number }[] = [];
let failoverErrors = 0;
try {
  await createContexts(cluster.nodes[0]!.url);
  await settle(cluster);
  const urls = cluster.nodes.map((n) => n.url);
  const pids = pidsOf(cluster.nodes.map((n) => n.server));
  spread = await closedLoop(
    '3 nodes, each client on any node (2 in 3 forwarded)',
    shape,
    appendVia((_c, w) => urls[w % 3]!),
    pids,
  );
  const led = await leaders(urls[0]!);
  const indexOf = (name: string | null) =>
    Math.max(
      0,
      cluster.nodes.findIndex((n) => n.name === name),
    );
  direct = await closedLoop(
    '3 nodes, each client on the leader of its context',
    shape,
    appendVia((c) => urls[indexOf(led[groupOf(contexts[c]!)]!)]!),
    pids,
  );

  // Failover: load through the two nodes that survive; time each of the victim's groups.
  const counts = cluster.nodes.map((n) => led.filter((l) => l === n.name).length);
  const victim = counts.indexOf(Math.max(...counts));
  const survivors = urls.filter((_, i) => i !== victim);
  const victimGroups = new Set(led.flatMap((l, g) => (l === cluster.nodes[victim]!.name ? [g] : [])));
  const resumed = new Map<number, number>();
  let killedAt = Number.POSITIVE_INFINITY;
  let stop = false;
  const append = appendVia((_c, w) => survivors[w % 2]!);
  const workers = Array.from({ length: shape.concurrency }, async (_, w) => {
    for (let op = 0; !stop; op++) {
      const c = (w * 7 + op) % contexts.length;
      const group = groupOf(contexts[c]!);
      const ok = await append(w, op).catch(() => false);
      const now = Date.now();
      if (!ok && now > killedAt) failoverErrors++;
      if (ok && now > killedAt && victimGroups.has(group) && !resumed.has(group))
        resumed.set(group, now - killedAt);
    }
  });
  await new Promise((r) => setTimeout(r, 2_000));
  killedAt = Date.now();
  await cluster.kill(victim);
  for (const deadline = Date.now() + 30_000; resumed.size < victimGroups.size && Date.now() < deadline; )
    await new Promise((r) => setTimeout(r, 100));
  stop = true;
  await Promise.all(workers);
  for (const [group, ms] of resumed) failover.push({ group, resumed_ms: ms });
  failover.sort((a, b) => a.resumed_ms - b.resumed_ms);
  if (failover.length < victimGroups.size)
    console.error(`${victimGroups.size - failover.length} groups did not resume within 30 s`);
} finally {
  await cluster.stop();
}

const fmt = (n: number, d = 1) => n.toFixed(d);
const rows = [one, spread, direct];
const table = [
  '| Scenario | appends/s | p50 ms | p95 ms | p99 ms | max ms | errors | node CPU % (all) | CPU µs/append | peak RSS (largest node) | vs 1 node |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.ops, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p95, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 1)} | ` +
      `${r.errors} | ${fmt(r.cpu_percent, 0)} | ${fmt(r.cpu_us_per_op, 1)} | ${fmt(r.peak_rss_bytes / 2 ** 20, 0)} MiB | ` +
      `${fmt(r.ops / one.ops, 2)}× |`,
  ),
].join('\n');
const pct = (p: number) =>
  failover[Math.min(failover.length - 1, Math.floor((p / 100) * failover.length))]?.resumed_ms;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const report = `
### HTTP cluster run ${new Date().toISOString()}

Command: \`npm run -w @fastpaca/bench cluster -- --seconds ${shape.seconds} --concurrency ${shape.concurrency}\`  
Machine: ${machine}; the load generator and every node (with their fsyncs) share it, so three nodes have a third of the CPU each.  
Concurrency ${shape.concurrency}, 256 contexts (one per group), ~250-byte messages, \`chars:4\` token estimator, ${shape.warmup_s} s warm-up excluded, ${shape.seconds} s measured. A 201 means fsynced on a quorum (cluster) or on the node (single).

${table}

Failover (SIGKILL of the node leading the most groups, load through the other two, idempotency keys on every append): ${failover.length} groups timed, first acknowledged append after the kill p50 ${pct(50)} ms, p90 ${pct(90)} ms, max ${failover.at(-1)?.resumed_ms} ms; ${failoverErrors} appends failed after the kill.
`;
console.log(report);
if (values.write) appendResults(report);
