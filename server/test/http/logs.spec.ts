import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from './client.js';

describe('logs – JSON lines with type, context_id, seq and request id', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ env: { FASTPACA_LOG_LEVEL: 'debug' } });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const lines = () =>
    server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('an append logs its context, seq and request id; every line is JSON', async () => {
    const api = jsonClient(server.url);
    await api.put('/v1/contexts/logged', { token_budget: 100 });
    const res = await api.post(
      '/v1/contexts/logged/messages',
      { message: text('hello') },
      { 'x-request-id': 'req-abc' },
    );
    expect(res.headers.get('x-request-id')).toBe('req-abc');
    await api.del('/v1/contexts/logged');
    await new Promise((r) => setTimeout(r, 200));
    const all = lines();
    const appended = all.find((l) => l.type === 'message_appended');
    expect(appended).toMatchObject({ context_id: 'logged', seq: 1, version: 1, req_id: 'req-abc' });
    expect(all.find((l) => l.type === 'http_request' && l.status === 201)).toMatchObject({
      context_id: 'logged',
      route: '/v1/contexts/:id/messages',
      status: 201,
    });
    expect(all.find((l) => l.type === 'context_tombstoned')).toMatchObject({ context_id: 'logged' });
    for (const l of all)
      expect(typeof l.level === 'number' && typeof l.time === 'number' && typeof l.node === 'string').toBe(
        true,
      );
    const nonJson = server
      .output()
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('{'));
    expect(nonJson).toEqual([]);
  });
});
