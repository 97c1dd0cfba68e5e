import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type FastpacaClient, UnauthorizedError } from '../../src/index.js';
import { checkDelivery, collect, deliveredMessages } from '../support/events.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId, waitFor } from '../support/server.js';

const KEY = 'sdk-expiry-api-key-0123456789';
let server: ServerProcess;
let admin: FastpacaClient;

beforeAll(async () => {
  // Expired tokens are found on the heartbeat pass: make it frequent.
  server = await startServer({
    env: {
      FASTPACA_API_KEY: KEY,
      FASTPACA_STREAM_PING_INTERVAL_MS: '200',
      FASTPACA_STREAM_PONG_TIMEOUT_MS: '5000',
    },
  });
  admin = createClient({ baseUrl: server.url, apiKey: KEY });
});
afterAll(() => stopServer(server));

describe('scoped tokens that expire', () => {
  it('a stream outlives its token: on 4401 it reconnects with a fresh one from the token function, losing nothing', async () => {
    const ctx = await admin.context(uniqueId('expiry'), { budget: 100_000 });
    let minted = 0;
    const browserLike = createClient({
      baseUrl: server.url,
      token: async () => {
        minted++;
        return (await ctx.createToken({ rights: ['read', 'append'], ttlSeconds: 1 })).token;
      },
    });
    const stream = browserLike.contextHandle(ctx.id).subscribe({ cursor: 0, lastSeq: 0 });
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    for (let i = 0; i < 6; i++) {
      await ctx.append(text(`m${i}`));
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitFor(() => deliveredMessages(events).length === 6, 10_000);
    // Three seconds of 1-second tokens: the stream was reopened with new ones, and still open.
    expect(minted).toBeGreaterThanOrEqual(3);
    expect(stream.status).toBe('open');
    checkDelivery(events);
    expect(deliveredMessages(events).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    stream.abort();
  });

  it('REST: a 401 with an expired token is retried once with the fresh token the function gives', async () => {
    const ctx = await admin.context(uniqueId('expiry-rest'), { budget: 100_000 });
    const expired = (await ctx.createToken({ rights: ['read', 'append'], ttlSeconds: 1 })).token;
    await new Promise((r) => setTimeout(r, 1_100));
    const fresh = (await ctx.createToken({ rights: ['read', 'append'], ttlSeconds: 60 })).token;
    const handed = [expired, fresh];
    const client = createClient({ baseUrl: server.url, token: () => handed.shift() ?? fresh });
    expect((await client.contextHandle(ctx.id).append(text('once'))).seq).toBe(1);
    expect(handed).toEqual([]);
    expect((await ctx.getTail()).messages).toHaveLength(1);
  });

  it('a token that cannot be renewed (a fixed string) ends the stream with UnauthorizedError once it expires', async () => {
    const ctx = await admin.context(uniqueId('expiry-fixed'), { budget: 100_000 });
    const { token } = await ctx.createToken({ rights: ['read'], ttlSeconds: 1 });
    const fixed = createClient({ baseUrl: server.url, token });
    const stream = fixed
      .contextHandle(ctx.id)
      .subscribe({ cursor: 0, reconnect: { baseDelayMs: 1, maxDelayMs: 1 } });
    const { finished } = collect(stream);
    await waitFor(() => stream.status === 'open');
    expect(UnauthorizedError.isInstance(await finished)).toBe(true);
  });
});
