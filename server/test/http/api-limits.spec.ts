import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from './client.js';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
});

describe('limits – body size and rate', () => {
  it('bodies over FASTPACA_BODY_LIMIT_BYTES get 413 and nothing is written', async () => {
    const server = await startServerProcess({ env: { FASTPACA_BODY_LIMIT_BYTES: '4096' } });
    servers.push(server);
    const api = jsonClient(server.url);
    await api.put('/v1/contexts/big', { token_budget: 1000 });
    const res = await api.post('/v1/contexts/big/messages', { message: text('x'.repeat(10_000)) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'payload_too_large', message: 'request body exceeds 4096 bytes' });
    expect((await api.get('/v1/contexts/big')).body.last_seq).toBe(0);
    expect((await api.post('/v1/contexts/big/messages', { message: text('small') })).status).toBe(201);
  });

  it('over FASTPACA_RATE_LIMIT_PER_SECOND requests get 429 with Retry-After', async () => {
    const server = await startServerProcess({ env: { FASTPACA_RATE_LIMIT_PER_SECOND: '5' } });
    servers.push(server);
    const api = jsonClient(server.url);
    const results = await Promise.all(Array.from({ length: 20 }, () => api.get('/v1/contexts/none')));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => r.status === 404).length).toBeLessThanOrEqual(5);
    expect(limited[0]!.body.error).toBe('rate_limited');
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The health endpoint is outside the API limit.
    expect((await api.get('/health/live')).status).toBe(200);
  });
});
