/**
 * Scenario 6, the 3-node cluster profile: `raft-cluster.bench.ts` in its own
 * process. It measures the consensus layer (real raft node processes, TCP
 * between them, WAL with fsync, 256 groups), not the HTTP server, because the
 * HTTP server does not run as a cluster yet.
 */
import { runChildBench } from './child-bench.js';
import { f0, f1, f2, mib, ratio, type ScenarioReport, table } from './report-format.js';

export interface ClusterOptions {
  seconds: number;
  warmup_s: number;
  concurrency: number;
}

interface Row {
  name: string;
  ops: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  cpu_percent: number;
  cpu_us_per_op: number;
  peak_rss_bytes: number;
  loadgen_cpu_percent: number;
}

export async function clusterScenario(options: ClusterOptions): Promise<ScenarioReport> {
  const r = await runChildBench<{
    groups: number;
    three: { consensus: Row; noop: Row };
    one: { consensus: Row; noop: Row };
  }>('./raft-cluster.bench.ts', [
    '--seconds',
    String(options.seconds),
    '--warmup',
    String(options.warmup_s),
    '--concurrency',
    String(options.concurrency),
  ]);
  const pairs: [Row, Row][] = [
    [r.three.consensus, r.three.noop],
    [r.three.noop, r.three.noop],
    [r.one.consensus, r.one.noop],
    [r.one.noop, r.one.noop],
  ];
  const rows = pairs.map(([row, base]) => [
    row.name,
    f0(row.ops),
    f2(row.p50),
    f2(row.p95),
    f2(row.p99),
    String(row.errors),
    f0(row.cpu_percent),
    f1(row.cpu_us_per_op),
    mib(row.peak_rss_bytes),
    f0(row.loadgen_cpu_percent),
    row === base ? '—' : ratio(row.ops / base.ops),
  ]);
  const markdown = [
    `Consensus level, **not** the HTTP server (which does not cluster yet): real raft node processes on loopback, ` +
      `${r.groups} groups, ${options.concurrency} concurrent proposers sending 300-byte entries to each group's leader; ` +
      `a 201 means committed by a quorum (fsynced) and applied on the leader. Baseline: the same HTTP request to the ` +
      `same processes without consensus. ${options.warmup_s} s warm-up excluded, ${options.seconds} s measured. ` +
      'All nodes, their fsyncs and the load generator share the machine.',
    '',
    table(
      [
        'setup',
        'committed/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'errors',
        'node CPU % (all nodes)',
        'CPU µs/op (all nodes)',
        'peak RSS (largest node)',
        'load generator CPU %',
        'ratio to baseline',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  ].join('\n');
  return {
    title: 'Scenario 6: 3-node cluster (consensus level)',
    markdown,
    summary: [
      {
        scenario: '6. 3-node Raft (consensus level, not HTTP)',
        result: `${f0(r.three.consensus.ops)} commits/s, p99 ${f2(r.three.consensus.p99)} ms`,
        baseline: `same HTTP without consensus: ${f0(r.three.noop.ops)} req/s; 1 node: ${f0(r.one.consensus.ops)} commits/s`,
        ratio: `${ratio(r.three.consensus.ops / r.three.noop.ops)}; ${ratio(r.three.consensus.ops / r.one.consensus.ops)} of 1 node`,
        target: '—',
        met: '—',
      },
    ],
  };
}
