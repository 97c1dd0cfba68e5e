import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from './client.js';

const KEY = 'test-api-key-0123456789';
let server: ServerProcess;
let admin: ReturnType<typeof jsonClient>;
let anon: ReturnType<typeof jsonClient>;

beforeAll(async () => {
  server = await startServerProcess({ env: { FASTPACA_API_KEY: KEY } });
  admin = jsonClient(server.url, { headers: { authorization: `Bearer ${KEY}` } });
  anon = jsonClient(server.url);
  for (const id of ['A', 'B'])
    expect((await admin.put(`/v1/contexts/${id}`, { token_budget: 1000 })).status).toBe(200);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

const as = (token: string) => jsonClient(server.url, { headers: { authorization: `Bearer ${token}` } });

describe('auth – API key', () => {
  it('every /v1 route needs the key: missing or wrong → 401', async () => {
    const wrong = as('not-the-key-at-all');
    for (const client of [anon, wrong]) {
      for (const res of [
        await client.get('/v1/contexts/A'),
        await client.put('/v1/contexts/A', { token_budget: 5 }),
        await client.post('/v1/contexts/A/messages', { message: text('x') }),
        await client.get('/v1/contexts/A/tail'),
        await client.get('/v1/contexts/A/messages'),
        await client.get('/v1/contexts/A/context'),
        await client.post('/v1/contexts/A/compact', { replacement: [] }),
        await client.patch('/v1/contexts/A/metadata', { metadata: {} }),
        await client.post('/v1/contexts/A/tokens', { rights: ['read'] }),
        await client.del('/v1/contexts/A'),
      ]) {
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('unauthorized');
      }
    }
    expect((await admin.get('/v1/contexts/A/messages')).body.messages).toEqual([]);
  });

  it('health, metrics and docs stay open', async () => {
    expect((await anon.get('/health/live')).status).toBe(200);
    expect((await anon.get('/metrics')).status).toBe(200);
    expect((await anon.get('/openapi.json')).status).toBe(200);
  });
});

describe('auth – scoped tokens', () => {
  it('issues a token with an expiry; unknown contexts 404; tokens cannot mint tokens', async () => {
    const before = Date.now();
    const res = await admin.post('/v1/contexts/A/tokens', { rights: ['read'], ttl_seconds: 120 });
    expect(res.status).toBe(201);
    expect(typeof res.body.token).toBe('string');
    const expires = Date.parse(res.body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 118_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 121_000);
    expect((await admin.post('/v1/contexts/nope/tokens', { rights: ['read'] })).status).toBe(404);
    expect((await as(res.body.token).post('/v1/contexts/A/tokens', { rights: ['read'] })).status).toBe(403);
    expect((await admin.post('/v1/contexts/A/tokens', { rights: ['write'] })).status).toBe(400);
  });

  it('a read token for A reads A, not B, and cannot append', async () => {
    const token = (await admin.post('/v1/contexts/A/tokens', { rights: ['read'] })).body.token;
    const reader = as(token);
    expect((await reader.get('/v1/contexts/A')).status).toBe(200);
    expect((await reader.get('/v1/contexts/A/tail')).status).toBe(200);
    expect((await reader.get('/v1/contexts/A/context')).status).toBe(200);
    const other = await reader.get('/v1/contexts/B');
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('forbidden');
    expect((await reader.get('/v1/contexts/B/messages')).status).toBe(403);
    const append = await reader.post('/v1/contexts/A/messages', { message: text('nope') });
    expect(append.status).toBe(403);
    expect(append.body.message).toContain('append');
    expect((await reader.del('/v1/contexts/A')).status).toBe(403);
    expect((await reader.put('/v1/contexts/A', { token_budget: 1 })).status).toBe(403);
  });

  it('an append token appends to its context only', async () => {
    const token = (await admin.post('/v1/contexts/A/tokens', { rights: ['append', 'read'] })).body.token;
    const writer = as(token);
    expect((await writer.post('/v1/contexts/A/messages', { message: text('hi') })).status).toBe(201);
    expect((await writer.post('/v1/contexts/B/messages', { message: text('hi') })).status).toBe(403);
    expect((await writer.post('/v1/contexts/A/compact', { replacement: [] })).status).toBe(403);
  });

  it('a tampered or expired token is 401', async () => {
    const token: string = (await admin.post('/v1/contexts/A/tokens', { rights: ['read'], ttl_seconds: 1 }))
      .body.token;
    const tampered = `${token.slice(0, -2)}xx`;
    expect((await as(tampered).get('/v1/contexts/A')).status).toBe(401);
    await new Promise((r) => setTimeout(r, 2_100));
    const expired = await as(token).get('/v1/contexts/A');
    expect(expired.status).toBe(401);
    expect(expired.body.message).toContain('expired');
  });
});
