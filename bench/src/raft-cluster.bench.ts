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
import os from 'node:os';
import { parseArgs } from 'node:util';
import { RaftCluster } from '../../server/src/testing/raft-cluster.js';
import { closedLoop, keepAliveAgent, type LoadResult, post } from './closed-loop.js';
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
const agent = keepAliveAgent(CONCURRENCY);
const shape = { concurrency: CONCURRENCY, warmup_s: WARMUP, seconds: SECONDS };
type Result = LoadResult;

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
      return (await post(agent, `${urls[leaders[group]!]}/propose?group=${group}`, payload)) === 201;
    };
    const noop = async (w: number, op: number) => {
      const group = (w * 4 + op) % GROUPS;
      return (await post(agent, `${urls[leaders[group]!]}/noop`, payload)) === 201;
    };
    const pids = cluster.members.map((m) => m.child!.pid!);
    const base = await closedLoop(`${size}-node HTTP without consensus (baseline)`, shape, noop, pids);
    const consensus = await closedLoop(`${size}-node Raft, ${GROUPS} groups, fsync`, shape, propose, pids);
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
