import { streamCloseCodes } from '@fastpaca/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from '../http/client.js';
import { metricValue, openStream, sleep } from './stream-client.js';

const PING_MS = 150;
const PONG_TIMEOUT_MS = 500;
let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;

beforeAll(async () => {
  server = await startServerProcess({
    env: {
      FASTPACA_TOKEN_ESTIMATOR: 'chars:1',
      FASTPACA_STREAM_PING_INTERVAL_MS: String(PING_MS),
      FASTPACA_STREAM_PONG_TIMEOUT_MS: String(PONG_TIMEOUT_MS),
    },
  });
  api = jsonClient(server.url);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

async function createContext(id: string, appends = 0): Promise<number> {
  expect((await api.put(`/v1/contexts/${id}`, { token_budget: 10_000 })).status).toBe(200);
  let version = 0;
  for (let i = 0; i < appends; i++) {
    const res = await api.post(`/v1/contexts/${id}/messages`, { message: text(`m${i}`) });
    expect(res.status).toBe(201);
    version = res.body.version;
  }
  return version;
}

describe('stream heartbeat – ping and pong', () => {
  it('sends ping at the configured interval; a client that answers pong stays connected', async () => {
    const version = await createContext('hb-alive', 2);
    const client = await openStream(server.url, 'hb-alive', { autoPong: true });
    const opened = Date.now();
    await sleep(PONG_TIMEOUT_MS * 4);
    expect(client.closeState).toBeUndefined();
    const pings = client.frames.filter((f) => f.type === 'ping');
    // Timers drift on a loaded machine; the count must still track the interval.
    const elapsed = Date.now() - opened;
    expect(pings.length).toBeGreaterThanOrEqual(Math.floor(elapsed / PING_MS) - 4);
    expect(pings.length).toBeLessThanOrEqual(Math.ceil(elapsed / PING_MS) + 1);
    for (const p of pings) expect(p).toEqual({ type: 'ping', version });
    await client.close();
    expect(client.invalid).toEqual([]);
  });

  it('a client that never answers is closed with 4408 after the pong timeout', async () => {
    await createContext('hb-silent');
    const before = await metricValue(server.url, 'fastpaca_stream_closed_total', {
      reason: 'heartbeat_timeout',
    });
    const client = await openStream(server.url, 'hb-silent', { autoPong: false });
    const opened = Date.now();
    const closed = await client.closedWithin();
    const after = Date.now() - opened;
    expect(closed.code).toBe(streamCloseCodes.heartbeat_timeout);
    expect(after).toBeGreaterThanOrEqual(PONG_TIMEOUT_MS);
    expect(after).toBeLessThan(PONG_TIMEOUT_MS + PING_MS * 10);
    expect(client.frames.filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(
      await metricValue(server.url, 'fastpaca_stream_closed_total', { reason: 'heartbeat_timeout' }),
    ).toBe(before + 1);
    expect(client.invalid).toEqual([]);
  });
});

describe('stream tombstone – subscribers are told and closed', () => {
  it('live subscribers get tombstoned then close 1000; history stays readable', async () => {
    const version = await createContext('tomb-live', 3);
    const withMessages = await openStream(server.url, 'tomb-live');
    const withoutMessages = await openStream(server.url, 'tomb-live', { includeMessages: false });
    const replaying = await openStream(server.url, 'tomb-live', { cursor: 0 });
    await replaying.waitForVersion(version);
    expect((await api.del('/v1/contexts/tomb-live')).status).toBe(204);
    for (const client of [withMessages, withoutMessages, replaying]) {
      const closed = await client.closedWithin();
      expect(closed.code).toBe(streamCloseCodes.normal);
      expect(client.frames.filter((f) => f.type !== 'ping').at(-1)).toEqual({
        type: 'tombstoned',
        version: version + 1,
      });
      expect(client.invalid).toEqual([]);
    }
    expect((await api.get('/v1/contexts/tomb-live/messages')).body.messages).toHaveLength(3);
  });

  it('a new subscriber to a tombstoned context gets tombstoned and close 1000', async () => {
    const version = await createContext('tomb-late', 1);
    expect((await api.del('/v1/contexts/tomb-late')).status).toBe(204);
    for (const options of [{}, { cursor: 0 }, { cursor: version }, { includeMessages: false }]) {
      const client = await openStream(server.url, 'tomb-late', options);
      const closed = await client.closedWithin();
      expect(closed.code).toBe(streamCloseCodes.normal);
      expect(client.frames.filter((f) => f.type !== 'ping' && f.type !== 'message').at(-1)).toEqual({
        type: 'tombstoned',
        version: version + 1,
      });
      expect(client.invalid).toEqual([]);
    }
  });
});
