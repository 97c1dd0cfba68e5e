/**
 * Stream fan-out benchmark: N websocket subscribers (default 500, in child
 * processes) follow one context while appends arrive at a fixed rate (default
 * 1,000 msg/s, open loop). Delivery latency is the time from an append's HTTP
 * ack to its `message` frame's arrival at each subscriber. The same run drives
 * a bare `ws` broadcast server with the same frames as a baseline.
 *
 *   npm run -w @fastpaca/bench stream -- [--subscribers 500] [--rate 1000]
 *     [--warmup 5] [--duration 20] [--rounds 3] [--processes 2] [--client raw|ws]
 *     [--only fastpaca|baseline] [--baseline prepared|batched|naive] [--server-profile <dir>]
 *     [--json <file>]
 *
 * `--json` also writes the median rounds as JSON (the full suite's runner reads it).
 * Needs a built server (`npx nx run @fastpaca/server:build`). Linux only (CPU
 * and RSS are read from /proc).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startServerProcess } from '@fastpaca/server/testing';
import { type FromSubscribers, now, type ToSubscribers } from './fanout-protocol.js';
import { LatencyHistogram } from './latency-histogram.js';
import { machineLine } from './measure.js';
import { ProcessSampler } from './process-stats.js';

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '500' },
    rate: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '5' },
    duration: { type: 'string', default: '20' },
    processes: { type: 'string', default: '2' },
    client: { type: 'string', default: 'raw' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string', default: 'prepared' },
    'server-profile': { type: 'string' },
    json: { type: 'string' },
  },
});

const options = {
  subscribers: Number(args.subscribers),
  rate: Number(args.rate),
  warmup_s: Number(args.warmup),
  duration_s: Number(args.duration),
  processes: Number(args.processes),
  client: args.client === 'ws' ? ('ws' as const) : ('raw' as const),
  rounds: Number(args.rounds),
};
for (const [name, value] of Object.entries(options)) {
  if (typeof value === 'number' && !(value > 0)) throw new Error(`--${name} must be a positive number`);
}

const message_text =
  'The assistant looked up the order status, found that the parcel left the warehouse yesterday ' +
  'and is expected to arrive on Thursday. It offered to send tracking updates by email and asked ' +
  'whether the customer wanted to change the delivery address before the courier picks it up.';
const drain_timeout_ms = 30_000;

interface Target {
  name: string;
  start(): Promise<RunningTarget>;
}

interface RunningTarget {
  pid: number;
  streamUrl: string;
  appendUrl: string;
  stop(): Promise<void>;
}

const fastpacaTarget: Target = {
  name: 'fastpaca',
  async start() {
    const server = await startServerProcess({
      env: {
        FASTPACA_STREAM_MAX_CONNECTIONS: String(options.subscribers + 16),
        FASTPACA_LOG_LEVEL: 'warn',
        // `--cpu-prof` is refused in NODE_OPTIONS, so a preloaded module records the profile instead.
        ...(args['server-profile']
          ? {
              NODE_OPTIONS: `--import ${fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url))}`,
              CPU_PROFILE_DIR: args['server-profile'],
            }
          : {}),
      },
    });
    const put = await fetch(`${server.url}/v1/contexts/bench`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      // A full window from the first few hundred messages on: every append then trims, as in a long chat.
      body: JSON.stringify({
        token_budget: 20_000,
        policy: { strategy: 'last_n', config: { limit: 100_000 } },
      }),
    });
    if (put.status !== 200) throw new Error(`cannot create the context: ${put.status} ${await put.text()}`);
    return {
      pid: server.child.pid!,
      streamUrl: `${server.url.replace('http', 'ws')}/v1/contexts/bench/stream`,
      appendUrl: `${server.url}/v1/contexts/bench/messages`,
      async stop() {
        await server.stop();
        server.cleanup();
      },
    };
  },
};

const baselineTarget: Target = {
  name: `baseline (bare ws, ${args.baseline})`,
  async start() {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./broadcast-baseline-server.ts', import.meta.url))],
      {
        env: { ...process.env, PORT: String(port), BASELINE_MODE: args.baseline },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/health/ready`)).ok) break;
      } catch {}
      if (Date.now() > deadline) throw new Error('baseline server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      pid: child.pid!,
      streamUrl: `ws://127.0.0.1:${port}/stream`,
      appendUrl: `${url}/append`,
      async stop() {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      },
    };
  },
};

/** One subscriber process and a strictly ordered request/reply channel to it. */
class SubscriberProcess {
  private readonly child: ChildProcess;
  private readonly waiting: ((m: FromSubscribers) => void)[] = [];
  offset_ms = 0;

  get pid(): number {
    return this.child.pid!;
  }

  constructor() {
    this.child = fork(fileURLToPath(new URL('./fanout-subscribers.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m) => {
      const next = this.waiting.shift();
      if (!next) throw new Error(`unexpected message from a subscriber process: ${JSON.stringify(m)}`);
      next(m as FromSubscribers);
    });
  }

  ask<T extends FromSubscribers['type']>(
    m: ToSubscribers,
    expect: T,
  ): Promise<Extract<FromSubscribers, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiting.push((reply) => {
        if (reply.type === expect) resolve(reply as Extract<FromSubscribers, { type: T }>);
        else reject(new Error(`subscriber process: expected ${expect}, got ${JSON.stringify(reply)}`));
      });
      this.child.send(m);
    });
  }

  /** Child clock minus ours, from the round trip with the smallest delay. */
  async calibrate(): Promise<void> {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 50; i++) {
      const sent = now();
      const reply = await this.ask({ type: 'clock', parent_ms: sent }, 'clock');
      const back = now();
      if (back - sent < best) {
        best = back - sent;
        this.offset_ms = reply.child_ms - (sent + back) / 2;
      }
    }
  }

  exit(): void {
    this.child.send({ type: 'exit' } satisfies ToSubscribers);
  }
}

interface Result {
  name: string;
  from_ack: LatencyHistogram;
  from_send: LatencyHistogram;
  append_ms: LatencyHistogram;
  frames_per_s: number;
  message_frames: number;
  expected_message_frames: number;
  missed: number;
  duplicates: number;
  out_of_order: number;
  unexpected: number;
  closed_early: Record<string, number>;
  errors: number;
  achieved_rate: number;
  server_cpu_percent: number;
  server_run_queue_wait_percent: number;
  machine_cpu_stall_percent: number;
  server_peak_rss_bytes: number;
  server_window_rss_max_bytes: number;
  loadgen_cpu_percent: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 128 });

function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(target: Target, children: SubscriberProcess[]): Promise<Result> {
  const warmup = Math.round(options.rate * options.warmup_s);
  const measured = Math.round(options.rate * options.duration_s);
  const total = warmup + measured;
  const server = await target.start();
  const shares = children.map(
    (_, i) =>
      Math.floor(options.subscribers / children.length) + (i < options.subscribers % children.length ? 1 : 0),
  );
  await Promise.all(
    children.map((c, i) =>
      c.ask(
        {
          type: 'connect',
          url: server.streamUrl,
          count: shares[i]!,
          client: options.client,
          seq_max: total,
          measure_from_version: warmup + 1,
        },
        'connected',
      ),
    ),
  );
  await new Promise((r) => setTimeout(r, 500));

  const sentAt = new Float64Array(total);
  const ackedAt = new Float64Array(total);
  const appendMs = new LatencyHistogram();
  let errors = 0;
  let sent = 0;
  let sampler: ProcessSampler | undefined;
  let childSamplers: ProcessSampler[] = [];
  let measureStart = 0;
  const inflight: Promise<void>[] = [];
  const start = now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) * options.rate) / 1000));
    while (sent < due) {
      if (sent === warmup) {
        sampler = new ProcessSampler(server.pid);
        childSamplers = children.map((c) => new ProcessSampler(c.pid));
        measureStart = now();
      }
      sent++;
      const body = JSON.stringify({
        message: {
          role: sent % 2 ? 'user' : 'assistant',
          parts: [{ type: 'text', text: `${sent} ${message_text}` }],
        },
      });
      const t0 = now();
      inflight.push(
        post(server.appendUrl, body).then(
          ({ status, text }) => {
            const t1 = now();
            if (status !== 201) {
              errors++;
              return;
            }
            const seq = (JSON.parse(text) as { seq: number }).seq;
            sentAt[seq - 1] = t0;
            ackedAt[seq - 1] = t1;
            if (seq > warmup) appendMs.record(t1 - t0);
          },
          () => {
            errors++;
          },
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const sendSeconds = (now() - measureStart) / 1000;
  await Promise.all(inflight);
  const reached = await Promise.all(
    children.map((c) => c.ask({ type: 'await_seq', seq: total, timeout_ms: drain_timeout_ms }, 'reached')),
  );
  const windowSeconds = (now() - measureStart) / 1000;
  const stats = sampler!.stop();
  const loadgenCpu = childSamplers.reduce((n, c) => n + c.stop().cpu_percent, 0);

  const fromAck = new LatencyHistogram();
  const fromSend = new LatencyHistogram();
  const result: Result = {
    name: target.name,
    from_ack: fromAck,
    from_send: fromSend,
    append_ms: appendMs,
    frames_per_s: 0,
    message_frames: 0,
    expected_message_frames: measured * options.subscribers,
    missed: 0,
    duplicates: 0,
    out_of_order: 0,
    unexpected: 0,
    closed_early: {},
    errors,
    achieved_rate: measured / sendSeconds,
    server_cpu_percent: stats.cpu_percent,
    server_run_queue_wait_percent: stats.run_queue_wait_percent,
    machine_cpu_stall_percent: stats.machine_cpu_stall_percent,
    server_peak_rss_bytes: stats.peak_rss_bytes,
    server_window_rss_max_bytes: stats.rss_max_bytes,
    loadgen_cpu_percent: loadgenCpu,
  };
  let frames = 0;
  for (const c of children) {
    const r = await c.ask(
      {
        type: 'report',
        from_seq: warmup + 1,
        to_seq: total,
        sent_ms: Array.from(sentAt.subarray(warmup)),
        acked_ms: Array.from(ackedAt.subarray(warmup)),
        offset_ms: c.offset_ms,
      },
      'report',
    );
    fromAck.merge(r.from_ack);
    fromSend.merge(r.from_send);
    frames += r.frames;
    result.message_frames += r.message_frames;
    result.missed += r.missed;
    result.duplicates += r.duplicates;
    result.out_of_order += r.out_of_order;
    result.unexpected += r.unexpected;
    for (const [code, n] of Object.entries(r.closed_early))
      result.closed_early[code] = (result.closed_early[code] ?? 0) + n;
  }
  result.frames_per_s = frames / windowSeconds;
  if (reached.some((r) => !r.all)) {
    console.error(`${target.name}: ${reached.reduce((n, r) => n + r.behind, 0)} subscribers never caught up`);
  }
  await Promise.all(children.map((c) => c.ask({ type: 'disconnect' }, 'disconnected')));
  await server.stop();
  return result;
}

const f1 = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const f2 = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (n: number) => `${f0(n / 2 ** 20)} MiB`;

function table(results: Result[]): string {
  const rows = [
    ['', ...results.map((r) => r.name)],
    ['---', ...results.map(() => '---:')],
    ['achieved append rate (msg/s)', ...results.map((r) => f0(r.achieved_rate))],
    [
      'append HTTP latency p50 / p99 (ms)',
      ...results.map((r) => `${f2(r.append_ms.percentile(50))} / ${f2(r.append_ms.percentile(99))}`),
    ],
    ['delivery after ack p50 (ms)', ...results.map((r) => f2(r.from_ack.percentile(50)))],
    ['delivery after ack p95 (ms)', ...results.map((r) => f2(r.from_ack.percentile(95)))],
    ['delivery after ack p99 (ms)', ...results.map((r) => f2(r.from_ack.percentile(99)))],
    ['delivery after ack max (ms)', ...results.map((r) => f2(r.from_ack.max_ms))],
    [
      'delivery after send p50 / p99 (ms)',
      ...results.map((r) => `${f2(r.from_send.percentile(50))} / ${f2(r.from_send.percentile(99))}`),
    ],
    ['frames received/s (all subscribers)', ...results.map((r) => f0(r.frames_per_s))],
    [
      'message frames received / expected',
      ...results.map((r) => `${f0(r.message_frames)} / ${f0(r.expected_message_frames)}`),
    ],
    [
      'missed / duplicate / out-of-order / unexpected frames',
      ...results.map((r) => `${r.missed} / ${r.duplicates} / ${r.out_of_order} / ${r.unexpected}`),
    ],
    ['subscribers closed early (code: n)', ...results.map((r) => JSON.stringify(r.closed_early))],
    ['append errors', ...results.map((r) => String(r.errors))],
    ['server CPU (% of one core)', ...results.map((r) => f1(r.server_cpu_percent))],
    [
      'server main thread waiting for a CPU (% of time)',
      ...results.map((r) => f1(r.server_run_queue_wait_percent)),
    ],
    ['machine CPU pressure, PSI some (% of time)', ...results.map((r) => f1(r.machine_cpu_stall_percent))],
    [
      'server peak RSS (whole life / window max)',
      ...results.map((r) => `${mb(r.server_peak_rss_bytes)} / ${mb(r.server_window_rss_max_bytes)}`),
    ],
    ['subscriber processes CPU (% of one core)', ...results.map((r) => f1(r.loadgen_cpu_percent))],
  ];
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(
    `Setup: ${options.subscribers} subscribers in ${options.processes} processes (${options.client} client), ` +
      `${options.rate} msg/s for ${options.warmup_s} s warm-up + ${options.duration_s} s measured.`,
  );
  const children = Array.from({ length: options.processes }, () => new SubscriberProcess());
  for (const c of children) await c.calibrate();
  console.log(
    `Clock offsets of subscriber processes (ms): ${children.map((c) => f2(c.offset_ms)).join(', ')}`,
  );
  const targets = [fastpacaTarget, baselineTarget].filter(
    (t) => !args.only || (args.only === 'baseline' ? t === baselineTarget : t === fastpacaTarget),
  );
  // Rounds alternate the targets, so a burst of outside load hits both alike; the median round is reported.
  const rounds = targets.map(() => [] as Result[]);
  for (let round = 1; round <= options.rounds; round++) {
    for (const [i, target] of targets.entries()) {
      console.log(`round ${round}/${options.rounds}: ${target.name} ...`);
      const result = await run(target, children);
      console.log(
        `  delivery after ack p50 ${f2(result.from_ack.percentile(50))} / p99 ${f2(result.from_ack.percentile(99))} ms, ` +
          `after send p99 ${f2(result.from_send.percentile(99))} ms, missed ${result.missed}; ` +
          `server CPU ${f1(result.server_cpu_percent)} %, waiting for a CPU ${f1(result.server_run_queue_wait_percent)} %, ` +
          `machine CPU pressure ${f1(result.machine_cpu_stall_percent)} %`,
      );
      rounds[i]!.push(result);
    }
  }
  for (const c of children) c.exit();
  const p99 = (r: Result) => r.from_ack.percentile(99);
  const results = rounds.map(
    (rs) => [...rs].sort((a, b) => p99(a) - p99(b))[Math.floor((rs.length - 1) / 2)]!,
  );
  console.log('');
  console.log(`Median round of ${options.rounds} (by delivery p99 after ack):`);
  console.log('');
  console.log(table(results));
  console.log('');
  for (const [i, target] of targets.entries()) {
    console.log(
      `${target.name}: p99 after ack per round: ${rounds[i]!.map((r) => f2(p99(r))).join(', ')} ms`,
    );
  }
  const fastpaca = results.find((r) => r.name === 'fastpaca');
  const baseline = results.find((r) => r.name !== 'fastpaca');
  if (fastpaca && baseline) {
    console.log(
      `Ratio fastpaca / baseline, median delivery p99 after ack: ${f2(p99(fastpaca) / p99(baseline))}×`,
    );
  }
  if (fastpaca) {
    const missed = rounds[targets.indexOf(fastpacaTarget)]!.reduce((n, r) => n + r.missed, 0);
    console.log(
      `Target p99 ≤ 50 ms after the ack: ${p99(fastpaca) <= 50 ? 'met' : 'MISSED'} (${f2(p99(fastpaca))} ms); ` +
        `missed frames in all rounds: ${missed}. After the send (append latency included): ` +
        `p99 ${f2(fastpaca.from_send.percentile(99))} ms.`,
    );
  }
  if (args.json) {
    const summary = (r: Result, i: number) => ({
      name: r.name,
      achieved_rate: r.achieved_rate,
      after_ack_ms: {
        p50: r.from_ack.percentile(50),
        p95: r.from_ack.percentile(95),
        p99: r.from_ack.percentile(99),
        max: r.from_ack.max_ms,
      },
      after_send_ms: { p50: r.from_send.percentile(50), p99: r.from_send.percentile(99) },
      append_ms: {
        p50: r.append_ms.percentile(50),
        p95: r.append_ms.percentile(95),
        p99: r.append_ms.percentile(99),
      },
      frames_per_s: r.frames_per_s,
      message_frames: r.message_frames,
      expected_message_frames: r.expected_message_frames,
      missed: r.missed,
      duplicates: r.duplicates,
      out_of_order: r.out_of_order,
      unexpected: r.unexpected,
      errors: r.errors,
      server_cpu_percent: r.server_cpu_percent,
      server_peak_rss_bytes: r.server_peak_rss_bytes,
      run_queue_wait_percent: r.server_run_queue_wait_percent,
      machine_cpu_stall_percent: r.machine_cpu_stall_percent,
      subscriber_cpu_percent: r.loadgen_cpu_percent,
      rounds_after_ack_p99_ms: rounds[i]!.map(p99),
      missed_all_rounds: rounds[i]!.reduce((n, x) => n + x.missed, 0),
    });
    writeFileSync(
      args.json,
      JSON.stringify({ options, targets: results.map((r, i) => summary(r, i)) }, null, 2),
    );
  }
  process.exit(0);
}

void main();
