/**
 * Measures what the SDK adds on top of the wire against a real local server:
 * append latency through the SDK versus a bare fetch, the delay from an
 * append's answer to its event on a subscription, and the cost of validating
 * a stream frame against the contract. Bounded: fixed counts, local server only.
 *
 *   npm run bench -w @fastpaca/sdk            (after building the server and the SDK)
 */
import { startServerProcess } from '@fastpaca/server/testing';
import { createClient, type SubscriptionEvent } from '../src/index.js';
import { parseFrame } from '../src/stream/frames.js';

const appends = Number(process.env.BENCH_APPENDS ?? 500);
const frames = Number(process.env.BENCH_FRAMES ?? 50_000);

function percentiles(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(3);
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (n=${samples.length})`;
}

const message = (i: number) => ({ role: 'user', parts: [{ type: 'text', text: `benchmark message ${i}` }] });

async function main(): Promise<void> {
  const server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1' } });
  try {
    const client = createClient({ baseUrl: server.url });

    const raw = await client.context('bench-raw', { budget: 10_000_000 });
    const rawTimes: number[] = [];
    for (let i = 0; i < appends; i++) {
      const start = performance.now();
      const res = await fetch(`${server.url}/v1/contexts/${raw.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `raw-${i}` },
        body: JSON.stringify({ message: message(i) }),
      });
      await res.text();
      rawTimes.push(performance.now() - start);
    }

    const ctx = await client.context('bench-sdk', { budget: 10_000_000 });
    const arrivals = new Map<number, number>();
    const stream = ctx.subscribe({ cursor: 0, lastSeq: 0 });
    const consumer = (async () => {
      for await (const event of stream as AsyncIterable<SubscriptionEvent>) {
        if (event.type === 'message') arrivals.set(event.seq, performance.now());
      }
    })();
    while (stream.status !== 'open') await new Promise((r) => setTimeout(r, 5));
    const sdkTimes: number[] = [];
    const answered = new Map<number, number>();
    for (let i = 0; i < appends; i++) {
      const start = performance.now();
      const { seq } = await ctx.append(message(i));
      const end = performance.now();
      sdkTimes.push(end - start);
      answered.set(seq, end);
    }
    while (arrivals.size < appends) await new Promise((r) => setTimeout(r, 5));
    stream.abort();
    await consumer;
    // Negative when the event arrived before the HTTP answer did.
    const eventLag = [...answered].map(([seq, at]) => arrivals.get(seq)! - at);

    const frame = JSON.stringify({
      type: 'message',
      version: 1,
      seq: 1,
      message: {
        seq: 1,
        ...message(1),
        metadata: {},
        token_count: 20,
        inserted_at: new Date().toISOString(),
      },
    });
    const start = performance.now();
    for (let i = 0; i < frames; i++) parseFrame(frame);
    const perFrameUs = ((performance.now() - start) * 1000) / frames;

    console.log(`append, bare fetch:            ${percentiles(rawTimes)}`);
    console.log(`append, SDK:                   ${percentiles(sdkTimes)}`);
    console.log(`event after append answer:     ${percentiles(eventLag)}`);
    console.log(`parse + validate message frame: ${perFrameUs.toFixed(2)} µs (n=${frames})`);
  } finally {
    await server.stop();
    server.cleanup();
  }
}

await main();
