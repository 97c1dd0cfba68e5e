/**
 * Raft cluster benchmark: three real node processes on loopback (TCP between
 * them, LMDB with fsync), 256 groups, 64 concurrent proposers sending 300-byte
 * entries to each group's leader. Reports committed entries/s and commit
 * latency (client-observed: request → applied on the leader → response), beside
 * a baseline measured in the same run: the same HTTP request to the same
 * processes without consensus (POST /noop), and a one-node cluster. Node CPU
 * is the sum over the cluster's processes during the measured window.
 *
 *   npm run -w @fastpaca/bench raft -- [--seconds 10] [--warmup 3] [--concurrency 64] [--write] [--json <file>]
 */
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { RaftCluster } from '../../server/src/testing/raft-cluster.js';
import { cpuSeconds, peakRssBytes } from './process-stats.js';
import { appendResults } from './results-file.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    groups: { type: 'string', default: '256' },
    write: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const CONCURRENCY = Number(values.concurrency);
const GROUPS = Number(values.groups);
const payload = 'x'.repeat(300);
/**
 * One keep-alive socket per proposer and node: `fetch` cost this process more
 * CPU per request than the nodes spent, which capped the baseline's rate.
 */
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** POSTs `body` and resolves with the status once the response has been read. */
function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Result {
  name: string;
  ops: number;
  p50: number;
  p95: number;
  p99: number;
  /** All node processes together, % of one core. */
  cpu_percent: number;
  cpu_us_per_op: number;
  /** The largest node's peak RSS. */
  peak_rss_bytes: number;
  /** This process (the load generator), % of one core. */
  loadgen_cpu_percent: number;
  max: number;
  errors: number;
}

async function load(
  name: string,
  send: (worker: number, op: number) => Promise<boolean>,
  pids: number[],
): Promise<Result> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let measuring = false;
  let stop = false;
  let ops = 0;
  let errors = 0;
  const workers = Array.from({ length: CONCURRENCY }, async (_, w) => {
    let op = 0;
    while (!stop) {
      const started = process.hrtime.bigint();
      const ok = await send(w, op++).catch(() => false);
      const micros = Number(process.hrtime.bigint() - started) / 1000;
      if (!measuring) continue;
      if (ok) {
        ops++;
        histogram.recordValue(Math.max(1, Math.round(micros)));
      } else errors++;
    }
  });
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const cpuStart = cpu();
  const loadgenStart = process.cpuUsage();
  const wallStart = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  measuring = false;
  const cpuUsed = cpu() - cpuStart;
  const loadgenUsed = process.cpuUsage(loadgenStart);
  const wall = (performance.now() - wallStart) / 1000;
  stop = true;
  await Promise.all(workers);
  return {
    name,
    ops: ops / SECONDS,
    p50: histogram.getValueAtPercentile(50) / 1000,
    p95: histogram.getValueAtPercentile(95) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    max: histogram.maxValue / 1000,
    errors,
    cpu_percent: (100 * cpuUsed) / wall,
    cpu_us_per_op: ops > 0 ? (cpuUsed / ops) * 1e6 : Number.NaN,
    peak_rss_bytes: Math.max(...pids.map(peakRssBytes)),
    loadgen_cpu_percent: (100 * (loadgenUsed.user + loadgenUsed.system)) / 1e6 / wall,
  };
}

async function runCluster(size: number): Promise<{ consensus: Result; noop: Result }> {
  const cluster = await RaftCluster.start(size, {
    RAFT_GROUPS: String(GROUPS),
    RAFT_MACHINE: 'count',
    RAFT_TICK_MS: '50',
    RAFT_ELECTION_TICKS: '10',
    RAFT_SNAPSHOT_ENTRIES: '20000',
  });
  try {
    await cluster.waitReady(60_000);
    const leaders = (await cluster.status(0))!.leaders.map((id) => cluster.indexOf(id));
    const urls = cluster.members.map((_, i) => cluster.url(i));
    const propose = async (w: number, op: number) => {
      const group = (w * 4 + op) % GROUPS;
      return (await post(`${urls[leaders[group]!]}/propose?group=${group}`, payload)) === 201;
    };
    const noop = async (w: number, op: number) => {
      const group = (w * 4 + op) % GROUPS;
      return (await post(`${urls[leaders[group]!]}/noop`, payload)) === 201;
    };
    const pids = cluster.members.map((m) => m.child!.pid!);
    const base = await load(`${size}-node HTTP without consensus (baseline)`, noop, pids);
    const consensus = await load(`${size}-node Raft, ${GROUPS} groups, fsync`, propose, pids);
    return { consensus, noop: base };
  } finally {
    await cluster.stop();
  }
}

const three = await runCluster(3);
const one = await runCluster(1);
const rows = [three.noop, three.consensus, one.noop, one.consensus];
const fmt = (n: number, d = 1) => n.toFixed(d);
const table = [
  '| Scenario | committed/s | p50 ms | p95 ms | p99 ms | max ms | errors | node CPU % (all) | CPU µs/op | peak RSS (largest node) | load generator CPU % | vs baseline |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => {
    const base = r.name.startsWith('3') ? three.noop : one.noop;
    return (
      `| ${r.name} | ${fmt(r.ops, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p95, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 1)} | ` +
      `${r.errors} | ${fmt(r.cpu_percent, 0)} | ${fmt(r.cpu_us_per_op, 1)} | ${fmt(r.peak_rss_bytes / 2 ** 20, 0)} MiB | ` +
      `${fmt(r.loadgen_cpu_percent, 0)} | ` +
      `${fmt(r.ops / base.ops, 2)}× |`
    );
  }),
].join('\n');
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const report = `\n### Raft cluster run ${new Date().toISOString()}\n\nCommand: \`npm run -w @fastpaca/bench raft -- --seconds ${SECONDS} --concurrency ${CONCURRENCY}\`  \nMachine: ${machine}; load generator, all nodes and their fsyncs share it.  \nConcurrency ${CONCURRENCY}, ${GROUPS} groups, 300-byte entries, ${WARMUP} s warm-up excluded, ${SECONDS} s measured.\n\n${table}\n`;
console.log(report);
if (values.write) appendResults(report);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({
      seconds: SECONDS,
      warmup: WARMUP,
      concurrency: CONCURRENCY,
      groups: GROUPS,
      three,
      one,
    }),
  );
