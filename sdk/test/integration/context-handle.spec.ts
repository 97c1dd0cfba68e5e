import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  createClient,
  type FastpacaClient,
  FastpacaError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
} from '../../src/index.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId } from '../support/server.js';

const KEY = 'sdk-test-api-key-0123456789';
let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer({ env: { FASTPACA_API_KEY: KEY } });
  client = createClient({ baseUrl: server.url, apiKey: KEY });
});
afterAll(() => stopServer(server));

describe('client.context – create and configure', () => {
  it('PUTs the configuration and returns a handle', async () => {
    const id = uniqueId('create');
    const ctx = await client.context(id, {
      budget: 1000,
      trigger: 0.5,
      policy: { strategy: 'manual' },
      metadata: { owner: 'sdk' },
    });
    expect(ctx.id).toBe(id);
    const info = await ctx.get();
    expect(info).toMatchObject({
      id,
      token_budget: 1000,
      trigger_ratio: 0.5,
      policy: { strategy: 'manual' },
      metadata: { owner: 'sdk' },
      status: 'active',
      version: 0,
      last_seq: 0,
    });
  });

  it('configure updates an existing context and is idempotent', async () => {
    const ctx = await client.context(uniqueId('configure'), { budget: 1000 });
    const updated = await ctx.configure({ budget: 2000 });
    expect(updated.token_budget).toBe(2000);
    const again = await ctx.configure({ budget: 2000 });
    expect(again.version).toBe(updated.version);
  });

  it('configure sends the contract’s fields only: extra keys on an options object are left out', async () => {
    const ctx = await client.context(uniqueId('configure-extra'), { budget: 1000 });
    // An object built elsewhere (a context read back, request options mixed in) type-checks as options.
    const options = {
      ...(await ctx.get()),
      budget: 3000,
      timeoutMs: 5_000,
      policy: { strategy: 'manual' as const },
    };
    const updated = await ctx.configure(options);
    expect(updated.token_budget).toBe(3000);
    expect(updated.policy).toEqual({ strategy: 'manual', config: {} });
    expect(updated.metadata).toEqual({});
  });

  it('contextHandle makes no request: a missing context fails on first use with NotFoundError', async () => {
    const ctx = client.contextHandle(uniqueId('missing'));
    const error = await ctx.get().catch((e: unknown) => e);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 404, code: 'not_found', isRetryable: false });
  });
});

describe('ContextHandle – messages', () => {
  it('append returns seq, version and the token estimate; a replayed key returns the original', async () => {
    const ctx = await client.context(uniqueId('append'), { budget: 10_000 });
    const first = await ctx.append(text('hello'), { idempotencyKey: 'k-1' });
    expect(first).toEqual({ seq: 1, version: 1, token_estimate: 5, replayed: false });
    const replay = await ctx.append(text('hello'), { idempotencyKey: 'k-1' });
    expect(replay).toEqual({ ...first, replayed: true });
    const second = await ctx.append(text('bye'), { tokenCount: 42, ifVersion: 1 });
    expect(second).toEqual({ seq: 2, version: 2, token_estimate: 42, replayed: false });
    expect((await ctx.get()).last_seq).toBe(2);
  });

  it('appendTurn lands several messages as one version, all or nothing, and replays with its key', async () => {
    const ctx = await client.context(uniqueId('turn'), { budget: 10_000 });
    await ctx.append(text('question'));
    const call = { role: 'assistant', parts: [{ type: 'tool-call', id: 't1', name: 'lookup' }] };
    const result = { role: 'tool', parts: [{ type: 'tool-result', id: 't1', text: '42' }] };
    const turn = await ctx.appendTurn([call, result], { idempotencyKey: 'turn-k', ifVersion: 1 });
    expect(turn).toMatchObject({ first_seq: 2, seq: 3, version: 2, replayed: false });
    expect(await ctx.appendTurn([call, result], { idempotencyKey: 'turn-k' })).toEqual({
      ...turn,
      replayed: true,
    });
    await expect(ctx.appendTurn([text('late')], { ifVersion: 1 })).rejects.toMatchObject({ status: 409 });
    expect((await ctx.getTail()).messages.map((m) => [m.seq, m.role])).toEqual([
      [1, 'user'],
      [2, 'assistant'],
      [3, 'tool'],
    ]);
  });

  it('append without a key still sends one (two identical appends are two messages)', async () => {
    const ctx = await client.context(uniqueId('autokey'), { budget: 10_000 });
    await ctx.append(text('same'));
    await ctx.append(text('same'));
    expect((await ctx.getTail()).messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('getTail pages newest-first and returns each page in chronological order', async () => {
    const ctx = await client.context(uniqueId('tail'), { budget: 10_000 });
    for (let i = 1; i <= 5; i++) await ctx.append(text(`m${i}`));
    expect((await ctx.getTail({ limit: 2 })).messages.map((m) => m.seq)).toEqual([4, 5]);
    expect((await ctx.getTail({ offset: 2, limit: 2 })).messages.map((m) => m.seq)).toEqual([2, 3]);
    expect((await ctx.getTail({ offset: 5, limit: 2 })).messages).toEqual([]);
  });

  it('messages pages forward; history iterates the whole log across pages', async () => {
    const ctx = await client.context(uniqueId('history'), { budget: 100_000 });
    for (let i = 1; i <= 7; i++) await ctx.append(text(`m${i}`));
    const page = await ctx.messages({ afterSeq: 2, limit: 3 });
    expect(page.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(page.next_after_seq).toBe(5);
    const seqs: number[] = [];
    for await (const message of ctx.history({ pageSize: 2 })) seqs.push(message.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const tail: number[] = [];
    for await (const message of ctx.history({ afterSeq: 5 })) tail.push(message.seq);
    expect(tail).toEqual([6, 7]);
  });
});

describe('ContextHandle – window and compaction', () => {
  it('context() returns the window; budgetTokens trims the response only', async () => {
    const ctx = await client.context(uniqueId('window'), { budget: 1000, policy: { strategy: 'manual' } });
    await ctx.append(text('aaaa'));
    await ctx.append(text('bbbb'));
    const window = await ctx.context();
    expect(window).toMatchObject({ version: 2, used_tokens: 8, needs_compaction: false });
    expect(window.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(window.segments).toEqual([{ type: 'live', from_seq: 1, to_seq: 2 }]);
    const trimmed = await ctx.context({ budgetTokens: 5 });
    expect(trimmed.messages.map((m) => m.seq)).toEqual([2]);
    expect((await ctx.context()).messages).toHaveLength(2);
  });

  it('compact replaces the window; the log is untouched', async () => {
    const ctx = await client.context(uniqueId('compact'), { budget: 1000, policy: { strategy: 'manual' } });
    await ctx.append(text('one'));
    await ctx.append(text('two'));
    const { version } = await ctx.compact([text('summary of one and two', 'system')], { ifVersion: 2 });
    expect(version).toBe(3);
    const window = await ctx.context();
    expect(window.messages).toHaveLength(1);
    expect(window.messages[0]).toMatchObject({ seq: null, role: 'system' });
    expect(window.segments[0]?.type).toBe('summary');
    expect((await ctx.getTail()).messages).toHaveLength(2);
    await expect(ctx.compact([text('late')], { ifVersion: 2 })).rejects.toSatisfy(ConflictError.isInstance);
  });
});

describe('ContextHandle – metadata, delete, tokens', () => {
  it('updateMetadata merges and null removes a key', async () => {
    const ctx = await client.context(uniqueId('meta'), { budget: 1000, metadata: { a: 1, b: 2 } });
    const updated = await ctx.updateMetadata({ b: null, c: 3 });
    expect(updated.metadata).toEqual({ a: 1, c: 3 });
  });

  it('delete tombstones: appends get ConflictError, history stays readable', async () => {
    const ctx = await client.context(uniqueId('delete'), { budget: 1000 });
    await ctx.append(text('kept'));
    await ctx.delete();
    expect((await ctx.get()).status).toBe('tombstoned');
    const error = await ctx.append(text('late')).catch((e: unknown) => e);
    expect(ConflictError.isInstance(error)).toBe(true);
    expect((error as ConflictError).isVersionMismatch).toBe(false);
    expect((await ctx.getTail()).messages.map((m) => m.seq)).toEqual([1]);
    await ctx.delete();
  });

  it('createToken issues a scoped token that reads and appends its context only', async () => {
    const id = uniqueId('token');
    const ctx = await client.context(id, { budget: 1000 });
    const other = await client.context(uniqueId('other'), { budget: 1000 });
    const { token, expires_at } = await ctx.createToken({ rights: ['read', 'append'], ttlSeconds: 60 });
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const scoped = createClient({ baseUrl: server.url, token: () => Promise.resolve(token) });
    const mine = scoped.contextHandle(id);
    expect((await mine.append(text('from a browser'))).seq).toBe(1);
    expect((await mine.getTail()).messages).toHaveLength(1);
    const forbidden = await scoped
      .contextHandle(other.id)
      .get()
      .catch((e: unknown) => e);
    expect(ForbiddenError.isInstance(forbidden)).toBe(true);
    await expect(mine.delete()).rejects.toSatisfy(ForbiddenError.isInstance);
  });

  it('a wrong API key is an UnauthorizedError and is not retried', async () => {
    let calls = 0;
    const wrong = createClient({
      baseUrl: server.url,
      apiKey: 'definitely-not-the-key',
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const error = await wrong
      .contextHandle('x')
      .get()
      .catch((e: unknown) => e);
    expect(UnauthorizedError.isInstance(error)).toBe(true);
    expect(FastpacaError.isInstance(error)).toBe(true);
    expect(calls).toBe(1);
  });

  it('a bad request is a FastpacaError naming the field', async () => {
    const ctx = client.contextHandle(uniqueId('bad'));
    const error = await ctx.configure({ budget: -1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', isRetryable: false });
    expect((error as Error).message).toContain('token_budget');
  });
});
