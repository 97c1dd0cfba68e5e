import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialProvider } from '../../src/http/credentials.js';
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

  it('a token function that returns {token, expires_at} is asked again only near expiry, or after a refusal', async () => {
    const ctx = await admin.context(uniqueId('expiry-cache'), { budget: 100_000 });
    let minted = 0;
    const client = createClient({
      baseUrl: server.url,
      token: async () => {
        minted++;
        return ctx.createToken({ rights: ['read', 'append'], ttlSeconds: 2 });
      },
    });
    const handle = client.contextHandle(ctx.id);
    // Ten requests at once and ten after: one token (a 2 s token is renewed after 1 s).
    await Promise.all(Array.from({ length: 10 }, (_, i) => handle.append(text(`a${i}`))));
    for (let i = 0; i < 10; i++) await handle.getTail({ limit: 1 });
    expect(minted).toBe(1);
    await new Promise((r) => setTimeout(r, 1_100));
    await handle.getTail({ limit: 1 });
    expect(minted).toBe(2);

    // A stream outlives tokens the same way: one fresh token per expiry, no messages lost.
    const stream = handle.subscribe({ cursor: 10, lastSeq: 10 });
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    await new Promise((r) => setTimeout(r, 2_500));
    await ctx.append(text('after expiry'));
    await waitFor(() => deliveredMessages(events).length === 1, 10_000).catch((error) => {
      throw new Error(`${error.message}: ${JSON.stringify(events.map((e) => e.type))}, minted ${minted}`);
    });
    expect(stream.status).toBe('open');
    expect(minted).toBeGreaterThanOrEqual(3);
    expect(minted).toBeLessThanOrEqual(5);
    stream.abort();
  });
});

describe('a cached token refused when a stream connects', () => {
  it('is dropped, and the token function asked once more, before the subscription gives up', async () => {
    const ctx = await admin.context(uniqueId('expiry-refused'), { budget: 100_000 });
    const expired = (await ctx.createToken({ rights: ['read'], ttlSeconds: 1 })).token;
    await new Promise((r) => setTimeout(r, 1_100));
    const later = new Date(Date.now() + 3_600_000).toISOString();
    // The first grant claims an hour (a client clock behind the server's): the cache would keep it.
    const grants = [{ token: expired, expires_at: later }];
    let asked = 0;
    const client = createClient({
      baseUrl: server.url,
      token: async () => {
        asked++;
        return grants.shift() ?? ctx.createToken({ rights: ['read'], ttlSeconds: 60 });
      },
    });
    const stream = client
      .contextHandle(ctx.id)
      .subscribe({ cursor: 0, reconnect: { baseDelayMs: 1, maxDelayMs: 1 } });
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open', 10_000);
    await ctx.append(text('through'));
    await waitFor(() => deliveredMessages(events).length === 1, 10_000);
    expect(asked).toBe(2);
    stream.abort();
  });
});

describe('credentialProvider – caching by expiry', () => {
  it('reuses a grant until its renewal point, shares one call among concurrent callers, drops a refused one', async () => {
    let now = 0;
    let calls = 0;
    const provider = credentialProvider(
      async () => {
        calls++;
        return { token: `t${calls}`, expires_at: new Date(now + 120_000).toISOString() };
      },
      () => now,
    );
    expect(await Promise.all([provider(), provider(), provider()])).toEqual(['t1', 't1', 't1']);
    now = 89_000;
    expect(await provider()).toBe('t1');
    now = 90_000; // 30 s before expiry
    expect(await provider()).toBe('t2');
    expect(await provider('t1')).toBe('t2'); // an older token's refusal does not drop the current one
    expect(await provider('t2')).toBe('t3');
    expect(calls).toBe(3);
  });

  it('plain strings are never cached; fixed credentials pass through', async () => {
    let calls = 0;
    const provider = credentialProvider(() => `s${++calls}`);
    expect([await provider(), await provider()]).toEqual(['s1', 's2']);
    expect(credentialProvider('key')()).toBe('key');
    expect(credentialProvider(undefined)()).toBeUndefined();
  });
});
