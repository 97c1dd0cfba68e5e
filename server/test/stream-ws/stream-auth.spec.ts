import { streamTokenSubprotocolPrefix } from '@fastpaca/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from '../http/client.js';
import { metricValue, openStream, refusedUpgrade, type StreamClient } from './stream-client.js';

const KEY = 'stream-api-key-0123456789';
let server: ServerProcess;
let admin: ReturnType<typeof jsonClient>;

async function token(contextId: string, rights: string[]): Promise<string> {
  const res = await admin.post(`/v1/contexts/${contextId}/tokens`, { rights, ttl_seconds: 300 });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

/** Proves the stream is live: an append reaches the subscriber. */
async function expectLive(client: StreamClient, contextId: string): Promise<void> {
  const res = await admin.post(`/v1/contexts/${contextId}/messages`, { message: text('hello') });
  expect(res.status).toBe(201);
  const frame = await client.waitFor((f) => f.type === 'message' && f.seq === res.body.seq);
  expect(frame.version).toBe(res.body.version);
  await client.close();
  expect(client.invalid).toEqual([]);
}

beforeAll(async () => {
  server = await startServerProcess({
    env: { FASTPACA_API_KEY: KEY, FASTPACA_TOKEN_ESTIMATOR: 'chars:1' },
  });
  admin = jsonClient(server.url, { headers: { authorization: `Bearer ${KEY}` } });
  for (const id of ['A', 'B'])
    expect((await admin.put(`/v1/contexts/${id}`, { token_budget: 10_000 })).status).toBe(200);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe('stream auth – API key', () => {
  it('no credentials → upgrade refused with 401 and the JSON error body', async () => {
    const refused = await refusedUpgrade(server.url, 'A');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'unauthorized' });
  });

  it('a wrong key in any of the three places → 401', async () => {
    for (const options of [
      { headers: { authorization: 'Bearer not-the-key-at-all' } },
      { token: 'not-the-key-at-all' },
      { protocols: [`${streamTokenSubprotocolPrefix}not-the-key-at-all`] },
    ]) {
      const refused = await refusedUpgrade(server.url, 'A', options);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'unauthorized' });
    }
  });

  it('the API key in the Authorization header opens the stream', async () => {
    const client = await openStream(server.url, 'A', { headers: { authorization: `Bearer ${KEY}` } });
    await expectLive(client, 'A');
  });
});

describe('stream auth – scoped tokens', () => {
  it('a read token works in the Authorization header', async () => {
    const t = await token('A', ['read']);
    const client = await openStream(server.url, 'A', { headers: { authorization: `Bearer ${t}` } });
    await expectLive(client, 'A');
  });

  it('a read token works as ?token=', async () => {
    const t = await token('A', ['read']);
    const client = await openStream(server.url, 'A', { token: t });
    await expectLive(client, 'A');
  });

  it('a read token works as a subprotocol, and the server echoes that subprotocol', async () => {
    const t = await token('A', ['read']);
    const protocol = `${streamTokenSubprotocolPrefix}${t}`;
    const client = await openStream(server.url, 'A', { protocols: [protocol] });
    expect(client.ws.protocol).toBe(protocol);
    await expectLive(client, 'A');
  });

  it('a token for another context → 403 in every place', async () => {
    const t = await token('B', ['read', 'append']);
    for (const options of [
      { headers: { authorization: `Bearer ${t}` } },
      { token: t },
      { protocols: [`${streamTokenSubprotocolPrefix}${t}`] },
    ]) {
      const refused = await refusedUpgrade(server.url, 'A', options);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ error: 'forbidden' });
    }
  });

  it('an append-only token → 403', async () => {
    const t = await token('A', ['append']);
    const refused = await refusedUpgrade(server.url, 'A', { token: t });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'forbidden' });
  });

  it('a tampered token → 401', async () => {
    const t = await token('A', ['read']);
    const tampered = t.slice(0, -2) + (t.endsWith('AA') ? 'BB' : 'AA');
    const refused = await refusedUpgrade(server.url, 'A', { token: tampered });
    expect(refused.status).toBe(401);
  });

  it('refusals are counted by reason', async () => {
    const before = await metricValue(server.url, 'fastpaca_stream_refused_total', { reason: 'forbidden' });
    await refusedUpgrade(server.url, 'A', { token: await token('B', ['read']) });
    const after = await metricValue(server.url, 'fastpaca_stream_refused_total', { reason: 'forbidden' });
    expect(after).toBe(before + 1);
    const unauthorized = await metricValue(server.url, 'fastpaca_stream_refused_total', {
      reason: 'unauthorized',
    });
    await refusedUpgrade(server.url, 'A');
    expect(await metricValue(server.url, 'fastpaca_stream_refused_total', { reason: 'unauthorized' })).toBe(
      unauthorized + 1,
    );
  });
});
