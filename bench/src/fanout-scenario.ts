/**
 * Scenario 5, stream fan-out: `stream-fanout.bench.ts` in its own process
 * (500 websocket subscribers in child processes, 1,000 appends/s), fastpaca
 * beside a bare `ws` broadcast server sending the same frames.
 */
import { runChildBench } from './child-bench.js';
import { f0, f1, f2, mib, ratio, type ScenarioReport, table, verdict } from './report-format.js';

export interface FanoutOptions {
  subscribers: number;
  rate: number;
  warmup_s: number;
  duration_s: number;
  rounds: number;
}

interface FanoutTarget {
  name: string;
  achieved_rate: number;
  after_ack_ms: { p50: number; p95: number; p99: number; max: number };
  after_send_ms: { p50: number; p99: number };
  append_ms: { p50: number; p95: number; p99: number };
  frames_per_s: number;
  message_frames: number;
  expected_message_frames: number;
  missed: number;
  duplicates: number;
  out_of_order: number;
  errors: number;
  server_cpu_percent: number;
  server_peak_rss_bytes: number;
  run_queue_wait_percent: number;
  machine_cpu_stall_percent: number;
  rounds_after_ack_p99_ms: number[];
  missed_all_rounds: number;
}

const p99_ms_max = 50;

export async function fanoutScenario(options: FanoutOptions): Promise<ScenarioReport> {
  const { targets } = await runChildBench<{ targets: FanoutTarget[] }>('./stream-fanout.bench.ts', [
    '--subscribers',
    String(options.subscribers),
    '--rate',
    String(options.rate),
    '--warmup',
    String(options.warmup_s),
    '--duration',
    String(options.duration_s),
    '--rounds',
    String(options.rounds),
  ]);
  const fastpaca = targets.find((t) => t.name === 'fastpaca');
  const baseline = targets.find((t) => t.name !== 'fastpaca');
  const rows = targets.map((t) => [
    t.name === 'fastpaca' ? 'fastpaca (1 node)' : t.name,
    f0(t.achieved_rate),
    f2(t.after_ack_ms.p50),
    f2(t.after_ack_ms.p95),
    f2(t.after_ack_ms.p99),
    f2(t.after_ack_ms.max),
    `${f2(t.append_ms.p50)} / ${f2(t.append_ms.p99)}`,
    `${f0(t.message_frames)} / ${f0(t.expected_message_frames)}`,
    `${t.missed_all_rounds} / ${t.duplicates} / ${t.out_of_order}`,
    f0(t.server_cpu_percent),
    f1(((t.server_cpu_percent / 100) * 1e6) / t.achieved_rate),
    mib(t.server_peak_rss_bytes),
    t === fastpaca || !fastpaca ? '—' : ratio(fastpaca.after_ack_ms.p99 / t.after_ack_ms.p99),
  ]);
  const markdown = [
    `${options.subscribers} websocket subscribers (2 child processes, minimal RFC 6455 client) follow one context; ` +
      `an open-loop generator appends ${options.rate} messages/s; ${options.warmup_s} s warm-up excluded, ` +
      `${options.duration_s} s measured, ${options.rounds} round(s) per target alternating (median round by p99 shown). ` +
      'Delivery latency = arrival of the `message` frame minus the HTTP ack of its append (frames leave before the ack, ' +
      'so it can be negative). Method and profile: see "Stream fan-out" above.',
    '',
    table(
      [
        'target',
        'appends/s',
        'delivery p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'append p50 / p99 ms',
        'message frames received / expected',
        'missed / dup / out of order',
        'server CPU %',
        'server CPU µs per append',
        'server peak RSS',
        'fastpaca ÷ this: p99',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    ...targets.map(
      (t) => `- ${t.name}: delivery p99 per round ${t.rounds_after_ack_p99_ms.map(f2).join(', ')} ms.`,
    ),
    ...targets.map(
      (t) =>
        `- ${t.name}: server main thread waiting for a CPU ${f0(t.run_queue_wait_percent)} %, machine CPU pressure ` +
        `${f0(t.machine_cpu_stall_percent)} %.`,
    ),
  ].join('\n');
  const summary = fastpaca
    ? [
        {
          scenario: `5. stream fan-out, ${options.subscribers} subscribers × ${f0(options.rate)} msg/s`,
          result: `delivery p99 ${f2(fastpaca.after_ack_ms.p99)} ms, ${fastpaca.missed_all_rounds} missed`,
          baseline: baseline ? `bare ws: p99 ${f2(baseline.after_ack_ms.p99)} ms` : '—',
          ratio: baseline ? ratio(fastpaca.after_ack_ms.p99 / baseline.after_ack_ms.p99) : '—',
          target: `p99 ≤ ${p99_ms_max} ms`,
          met: verdict(fastpaca.after_ack_ms.p99 <= p99_ms_max && fastpaca.missed_all_rounds === 0),
        },
      ]
    : [];
  return { title: 'Scenario 5: stream fan-out', markdown, summary };
}
