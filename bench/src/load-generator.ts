/**
 * The load generator: a child process of the benchmark runner, so its CPU is
 * never the server's. It drives autocannon (prebuilt request buffers, one
 * keep-alive connection per simulated client, closed loop) and records every
 * response's latency in an HDR histogram. A warm-up run, whose results are
 * dropped, precedes each measured run.
 */
import autocannon, { type Options, type Request, type Result } from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import type {
  FromLoadGenerator,
  LatencySummary,
  LoadResult,
  LoadSpec,
  ToLoadGenerator,
} from './load-protocol.js';
import { appendBodies, corpus_size, prng } from './workload.js';

const json = { 'content-type': 'application/json' };
/** Seconds without a response before autocannon counts a timeout and reconnects. */
const request_timeout_s = 30;

function send(message: FromLoadGenerator): void {
  process.send!(message);
}

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

function summary(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => us / 1000;
  return {
    count: h.totalCount,
    p50_ms: ms(h.getValueAtPercentile(50)),
    p95_ms: ms(h.getValueAtPercentile(95)),
    p99_ms: ms(h.getValueAtPercentile(99)),
    max_ms: ms(h.maxValue),
    mean_ms: ms(h.mean),
  };
}

const messagesPath = (id: string) => `/v1/contexts/${encodeURIComponent(id)}/messages`;
const windowPath = (id: string) => `/v1/contexts/${encodeURIComponent(id)}/context`;

/** The autocannon options for a spec; bodies and random choices come from the spec's seed. */
function options(spec: LoadSpec, phase: 'warmup' | 'measured'): Options {
  // Each phase has its own stream of bodies, so the measured run is the same whatever the warm-up did.
  const random = prng(spec.seed + (phase === 'warmup' ? 1 : 2));
  const bodies = appendBodies(spec.seed, corpus_size);
  const nextBody = () => bodies[Math.floor(random() * bodies.length)]!;
  const base = { connections: spec.connections, timeout: request_timeout_s };
  const perConnection = (path: (id: string) => string) =>
    spec.contexts.slice(0, spec.connections).map((id) => spec.base_url + path(id));
  switch (spec.kind) {
    case 'append':
      return {
        ...base,
        url: perConnection(messagesPath),
        method: 'POST',
        headers: json,
        requests: [{ setupRequest: (request: Request) => ({ ...request, body: nextBody() }) }],
      };
    case 'read':
      return { ...base, url: perConnection(windowPath), method: 'GET' };
    case 'mixed': {
      const readShare = spec.read_share ?? 0.8;
      return {
        ...base,
        url: spec.base_url,
        requests: [
          {
            setupRequest: (request: Request) => {
              const id = spec.contexts[Math.floor(random() * spec.contexts.length)]!;
              return random() < readShare
                ? { ...request, method: 'GET', path: windowPath(id), headers: {}, body: '' }
                : { ...request, method: 'POST', path: messagesPath(id), headers: json, body: nextBody() };
            },
          },
        ],
      };
    }
    case 'fill': {
      let next = 0;
      return {
        ...base,
        url: spec.base_url,
        amount: spec.amount,
        method: 'POST',
        headers: json,
        requests: [
          {
            setupRequest: (request: Request) => ({
              ...request,
              path: messagesPath(spec.contexts[next++ % spec.contexts.length]!),
              body: nextBody(),
            }),
          },
        ],
      };
    }
  }
}

function okStatus(kind: LoadSpec['kind'], status: number): boolean {
  if (kind === 'read') return status === 200;
  if (kind === 'mixed') return status === 200 || status === 201;
  return status === 201;
}

async function phase(spec: LoadSpec, which: 'warmup' | 'measured'): Promise<LoadResult> {
  const all = histogram();
  const reads = histogram();
  const appends = histogram();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let bad = 0;
  let bytes = 0;
  let responses = 0;
  const opts = options(spec, which);
  if (spec.kind !== 'fill') opts.duration = which === 'warmup' ? spec.warmup_s : spec.duration_s;
  const started = performance.now();
  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon(opts, (error, r) => (error ? reject(error) : resolve(r)));
    instance.on('response', (_client, status, resBytes, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      responses++;
      bytes += resBytes;
      if (!okStatus(spec.kind, status)) {
        bad++;
        return;
      }
      ok++;
      const us = Math.max(1, Math.round(ms * 1000));
      all.recordValue(us);
      if (spec.kind === 'mixed') (status === 200 ? reads : appends).recordValue(us);
    });
  });
  const duration = (performance.now() - started) / 1000;
  return {
    duration_s: duration,
    ok,
    ok_per_s: ok / duration,
    latency: summary(all),
    ...(spec.kind === 'mixed' ? { reads: summary(reads), appends: summary(appends) } : {}),
    statuses,
    failed: bad + result.errors + result.timeouts,
    appends_acked_including_warmup: statuses[201] ?? 0,
    response_bytes_mean: responses > 0 ? bytes / responses : 0,
  };
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  if (!(spec.connections > 0) || spec.contexts.length === 0)
    throw new Error('load spec: no connections or contexts');
  if (spec.kind === 'fill') return phase(spec, 'measured');
  const warmup = spec.warmup_s > 0 ? (await phase(spec, 'warmup')).appends_acked_including_warmup : 0;
  send({ type: 'measuring' });
  const measured = await phase(spec, 'measured');
  return { ...measured, appends_acked_including_warmup: warmup + measured.appends_acked_including_warmup };
}

// Never outlive the runner, even when it dies without saying goodbye.
process.on('disconnect', () => process.exit(0));
process.on('message', (message: ToLoadGenerator) => {
  if (message.type === 'exit') process.exit(0);
  run(message.spec).then(
    (result) => send({ type: 'result', result }),
    (error: unknown) =>
      send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
  );
});
