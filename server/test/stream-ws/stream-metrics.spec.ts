import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from '../http/client.js';
import { eventually, metricValue, openStream } from './stream-client.js';

let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;

beforeAll(async () => {
  server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1' } });
  api = jsonClient(server.url);
  expect((await api.put('/v1/contexts/m', { token_budget: 100_000 })).status).toBe(200);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe('stream metrics – connections and frames', () => {
  it('fastpaca_stream_connections follows opens and closes', async () => {
    expect(await metricValue(server.url, 'fastpaca_stream_connections')).toBe(0);
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await openStream(server.url, 'm'));
    expect(await metricValue(server.url, 'fastpaca_stream_connections')).toBe(3);
    await clients[0]!.close();
    await clients[1]!.terminate();
    await eventually(
      () => metricValue(server.url, 'fastpaca_stream_connections'),
      (n) => n === 1,
    );
    await clients[2]!.close();
    await eventually(
      () => metricValue(server.url, 'fastpaca_stream_connections'),
      (n) => n === 0,
    );
  });

  it('fastpaca_stream_frames_sent_total counts every frame delivered', async () => {
    const before = await metricValue(server.url, 'fastpaca_stream_frames_sent_total');
    const full = await openStream(server.url, 'm');
    const light = await openStream(server.url, 'm', { includeMessages: false });
    let version = 0;
    for (let i = 0; i < 5; i++) {
      const res = await api.post('/v1/contexts/m/messages', { message: text(`frame ${i}`) });
      expect(res.status).toBe(201);
      version = res.body.version;
    }
    await full.waitForVersion(version);
    await light.waitForVersion(version);
    const received = full.frames.length + light.frames.length;
    // Five versions: message + context for one subscriber, context only for the other.
    expect(received).toBe(15);
    expect(await metricValue(server.url, 'fastpaca_stream_frames_sent_total')).toBe(before + received);
    await full.close();
    await light.close();
    expect(full.invalid).toEqual([]);
    expect(light.invalid).toEqual([]);
  });
});
