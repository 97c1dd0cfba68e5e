import { afterEach, describe, expect, it } from 'vitest';
import { createClient, NetworkError } from '../../src/index.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId } from '../support/server.js';

/**
 * The server dies while an append is in flight and comes back on the same
 * data directory and port. The SDK retries with the idempotency key of the
 * original call, so however the crash fell, the message is stored once.
 */
describe('retries across a server restart – exactly one copy', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await stopServer(server);
    server = undefined;
  });

  const retry = { maxAttempts: 60, baseDelayMs: 20, maxDelayMs: 250 };

  it('the append was applied but the answer was lost: the retry after restart is a replay', async () => {
    server = await startServer();
    const { port, dataDir } = server;
    const id = uniqueId('lost-answer');
    await createClient({ baseUrl: server.url }).context(id, { budget: 10_000 });

    let restart: Promise<ServerProcess> | undefined;
    const keys: string[] = [];
    const client = createClient({
      baseUrl: server.url,
      retry,
      fetch: async (input, init) => {
        const method = init?.method ?? 'GET';
        if (method === 'POST' && String(input).endsWith('/messages')) {
          keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
        }
        const response = await fetch(input, init);
        if (method === 'POST' && !restart) {
          // The server has applied and answered; it dies before the client reads the answer.
          await server!.kill();
          restart = startServer({ dataDir, port });
          throw new TypeError('fetch failed');
        }
        return response;
      },
    });
    const result = await client.contextHandle(id).append(text('exactly once'));
    server = await restart;
    expect(result).toMatchObject({ seq: 1, version: 1, replayed: true });
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys).size).toBe(1);
    const log = await createClient({ baseUrl: server!.url }).contextHandle(id).getTail();
    expect(log.messages.map((m) => m.parts[0]?.text)).toEqual(['exactly once']);
  });

  it('the server is killed while the request is in flight: one copy, whichever side of the crash it fell', async () => {
    server = await startServer();
    const { port, dataDir } = server;
    const id = uniqueId('in-flight');
    const setup = createClient({ baseUrl: server.url });
    const ctx = await setup.context(id, { budget: 10_000 });
    await ctx.append(text('before'));

    let restart: Promise<ServerProcess> | undefined;
    const client = createClient({
      baseUrl: server.url,
      retry,
      fetch: (input, init) => {
        const pending = fetch(input, init);
        if (!restart) {
          const current = server!;
          restart = current.kill().then(() => startServer({ dataDir, port }));
        }
        return pending;
      },
    });
    const result = await client.contextHandle(id).append(text('during the crash'));
    server = await restart;
    expect(result.seq).toBe(2);
    const log = await createClient({ baseUrl: server!.url }).contextHandle(id).getTail();
    expect(log.messages.map((m) => m.parts[0]?.text)).toEqual(['before', 'during the crash']);
  });

  it('with the server down for longer than the retry budget, the append fails with a NetworkError', async () => {
    server = await startServer();
    const id = uniqueId('down');
    const ctx = await createClient({ baseUrl: server.url }).context(id, { budget: 1000 });
    await server.kill();
    const client = createClient({
      baseUrl: server.url,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const error = await client
      .contextHandle(ctx.id)
      .append(text('nobody home'))
      .catch((e: unknown) => e);
    expect(NetworkError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 0, code: 'network_error', isRetryable: true });
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});
