import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { createClient as createBrowserClient } from '../../src/browser.js';
import { createClient, type FastpacaClient, ForbiddenError, UnauthorizedError } from '../../src/index.js';
import { collect } from '../support/events.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId, waitFor } from '../support/server.js';

const KEY = 'sdk-stream-api-key-0123456789';
let server: ServerProcess;
let admin: FastpacaClient;

beforeAll(async () => {
  server = await startServer({ env: { FASTPACA_API_KEY: KEY } });
  admin = createClient({ baseUrl: server.url, apiKey: KEY });
});
afterAll(() => stopServer(server));

describe('subscribe – Node entry with the API key', () => {
  it('sends the key as a header and streams', async () => {
    const ctx = await admin.context(uniqueId('node-auth'), { budget: 1000 });
    const stream = ctx.subscribe();
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    await ctx.append(text('hi'));
    await waitFor(() => events.length === 2);
    stream.abort();
  });

  it('a refused upgrade (401) ends the subscription with UnauthorizedError instead of reconnecting', async () => {
    const ctx = await admin.context(uniqueId('node-refused'), { budget: 1000 });
    let connects = 0;
    const wrong = createClient({ baseUrl: server.url, apiKey: 'wrong-key-wrong-key-wrong' });
    const stream = wrong.contextHandle(ctx.id).subscribe({
      cursor: 0,
      reconnect: { baseDelayMs: 1, maxDelayMs: 1 },
      onStatus: (s) => {
        if (s === 'connecting' || s === 'reconnecting') connects++;
      },
    });
    const { finished } = collect(stream);
    const error = await finished;
    expect(UnauthorizedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('invalid credentials');
    expect(connects).toBe(0);
    expect((await stream.done).reason).toBe('error');
  });
});

describe('subscribe – browser entry (native WebSocket, token as subprotocol)', () => {
  const globals = globalThis as { WebSocket?: unknown };
  const original = globals.WebSocket;
  const offered: string[] = [];
  beforeAll(() => {
    // Node 20 has no global WebSocket; `ws` implements the same constructor and event handlers.
    globals.WebSocket = class extends NodeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        offered.push(...(Array.isArray(protocols) ? protocols : protocols ? [protocols] : []));
      }
    };
  });
  afterAll(() => {
    globals.WebSocket = original;
  });
  afterEach(() => {
    offered.length = 0;
  });

  it('streams with a scoped read token passed as the fastpaca.token subprotocol', async () => {
    const ctx = await admin.context(uniqueId('browser'), { budget: 1000 });
    const { token } = await ctx.createToken({ rights: ['read'] });
    const browser = createBrowserClient({ baseUrl: server.url, token });
    const stream = browser.contextHandle(ctx.id).subscribe();
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    await ctx.append(text('to the browser'));
    await waitFor(() => events.length === 2);
    stream.abort();
    await stream.done;
    expect(offered).toEqual([`fastpaca.token.${token}`]);
    expect(events[0]).toMatchObject({ type: 'message', message: { parts: [{ text: 'to the browser' }] } });
  });

  it('a token for another context: the failed upgrade is explained by a REST probe (ForbiddenError)', async () => {
    const ctx = await admin.context(uniqueId('browser-a'), { budget: 1000 });
    const other = await admin.context(uniqueId('browser-b'), { budget: 1000 });
    const { token } = await other.createToken({ rights: ['read'] });
    const browser = createBrowserClient({ baseUrl: server.url, token });
    const stream = browser.contextHandle(ctx.id).subscribe({ cursor: 0 });
    const { finished } = collect(stream);
    const error = await finished;
    expect(ForbiddenError.isInstance(error)).toBe(true);
    expect(offered).toEqual([`fastpaca.token.${token}`]);
  });

  it('an expired or forged token is an UnauthorizedError', async () => {
    const ctx = await admin.context(uniqueId('browser-forged'), { budget: 1000 });
    const browser = createBrowserClient({ baseUrl: server.url, token: 'v1.forged.token' });
    const { finished } = collect(browser.contextHandle(ctx.id).subscribe({ cursor: 0 }));
    expect(UnauthorizedError.isInstance(await finished)).toBe(true);
  });
});
