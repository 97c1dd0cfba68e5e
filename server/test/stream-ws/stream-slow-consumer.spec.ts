import { streamCloseCodes } from '@fastpaca/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient } from '../http/client.js';
import { metricValue, openStream, type StreamClient } from './stream-client.js';

const MB = 1024 * 1024;
const BUFFER_BYTES_MAX = 1 * MB;
const MESSAGE_CHARS = 400_000;
const APPENDS = 60;
const PAUSED_CLIENTS = 10;
/**
 * What a paused client can have in flight besides the server's own buffer: the
 * loopback socket buffers of both ends (the kernel's send buffer caps at 4 MB
 * by default, and a receive buffer that was never read stays small).
 */
const KERNEL_SLACK_BYTES = 8 * MB;

let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;

const rss = () => metricValue(server.url, 'process_resident_memory_bytes');

beforeAll(async () => {
  server = await startServerProcess({
    env: {
      FASTPACA_TOKEN_ESTIMATOR: 'chars:1',
      FASTPACA_STREAM_BUFFER_BYTES_MAX: String(BUFFER_BYTES_MAX),
      // A short replay ring, so the frames themselves are not kept alive by it.
      FASTPACA_STREAM_REPLAY_VERSIONS: '4',
    },
  });
  api = jsonClient(server.url);
  const created = await api.put('/v1/contexts/slow', { token_budget: 100_000_000 });
  expect(created.body).toMatchObject({ id: 'slow' });
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe('stream slow consumer – bounded send buffer', () => {
  it('clients that stop reading are closed with 4413; their backlog and server RSS stay bounded', async () => {
    const slowClosedBefore = await metricValue(server.url, 'fastpaca_stream_closed_total', {
      reason: 'slow_consumer',
    });
    const reader = await openStream(server.url, 'slow', { includeMessages: false });
    const paused: StreamClient[] = [];
    for (let i = 0; i < PAUSED_CLIENTS; i++) {
      const client = await openStream(server.url, 'slow');
      client.ws.pause();
      paused.push(client);
    }
    const body = JSON.stringify({
      message: { role: 'user', parts: [{ type: 'text', text: 'x'.repeat(MESSAGE_CHARS) }] },
    });
    const append = async () => {
      const res = await api.call('POST', '/v1/contexts/slow/messages', body);
      expect(res.status).toBe(201);
      return res.body.version as number;
    };
    // The first append warms the request path, so the baseline includes it.
    await append();
    const baseline = await rss();
    let peak = baseline;
    let version = 0;
    for (let i = 0; i < APPENDS; i++) {
      version = await append();
      if (i % 5 === 4) peak = Math.max(peak, await rss());
    }
    peak = Math.max(peak, await rss());
    await reader.waitForVersion(version);

    const perClient = APPENDS * MESSAGE_CHARS;
    const produced = PAUSED_CLIENTS * perClient;
    expect(produced).toBeGreaterThan(50 * MB);

    // A paused client reads, after resuming, exactly what was queued for it when
    // it was cut off, then the close frame: that backlog is what the server let
    // it hold, and it must stay near the configured bound, not the whole stream.
    for (const client of paused) client.ws.resume();
    const backlog = BUFFER_BYTES_MAX + KERNEL_SLACK_BYTES + 2 * MESSAGE_CHARS;
    expect(backlog).toBeLessThan(perClient / 2);
    for (const client of paused) {
      const closed = await client.closedWithin();
      expect(closed.code).toBe(streamCloseCodes.slow_consumer);
      expect(client.invalid).toEqual([]);
      expect(client.bytes).toBeLessThan(backlog);
      const versions = client.frames.filter((f) => f.type === 'context').map((f) => f.version);
      expect(versions.length).toBeLessThan(APPENDS);
      // What arrived before the cut is a dense prefix: nothing skipped.
      expect(versions).toEqual(versions.map((_, i) => versions[0]! + i));
    }

    // The stored log holds every message (no archiver here); beyond it, the
    // paused clients may cost at most their bounded buffers.
    const stored = APPENDS * MESSAGE_CHARS;
    const rssBound = 4 * stored + PAUSED_CLIENTS * (BUFFER_BYTES_MAX + 2 * MESSAGE_CHARS) + 64 * MB;
    expect(rssBound).toBeLessThan(produced);
    expect(peak - baseline).toBeLessThan(rssBound);

    expect(reader.closeState).toBeUndefined();
    expect(reader.frames.filter((f) => f.type === 'context').at(-1)?.version).toBe(version);
    expect(await metricValue(server.url, 'fastpaca_stream_closed_total', { reason: 'slow_consumer' })).toBe(
      slowClosedBefore + PAUSED_CLIENTS,
    );
    expect(await metricValue(server.url, 'fastpaca_stream_connections')).toBe(1);
    await reader.close();
  }, 60_000);
});
