import { limits } from '@fastpaca/contract';
import { describe, expect, it, vi } from 'vitest';
import { ContextHandle } from '../../src/context-handle.js';
import { type RetryOptions, resolveRetryOptions } from '../../src/http/retry-policy.js';
import { Transport } from '../../src/http/transport.js';
import { NetworkError, RateLimitedError, UnavailableError } from '../../src/index.js';

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  at: number;
}

/** A scripted fetch: each call takes the next answer (a status and body, or an error to throw). */
function scriptedFetch(
  script: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | Error>,
) {
  const calls: Call[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: init?.body as string | undefined,
      at: Date.now(),
    });
    const next = script[Math.min(calls.length - 1, script.length - 1)]!;
    if (next instanceof Error) throw next;
    return new Response(next.body === undefined ? null : JSON.stringify(next.body), {
      status: next.status,
      headers: next.headers,
    });
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

const appendOk = { status: 201, body: { seq: 1, version: 1, token_estimate: 3 } };
const errorBody = (error: string) => ({ error, message: error });

function handle(
  fetch: typeof globalThis.fetch,
  retry: Partial<RetryOptions> | false = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
) {
  const transport = new Transport({
    baseUrl: 'http://fastpaca.test/',
    credential: () => 'secret',
    fetch,
    headers: { 'x-app': 'tests' },
    retry: resolveRetryOptions(retry),
    timeoutMs: 200,
    random: () => 0.5,
  });
  return new ContextHandle('ctx-1', {
    transport,
    openSocket: () => {
      throw new Error('no sockets here');
    },
    socketReportsRefusals: true,
    credential: () => 'secret',
    random: () => 0.5,
  });
}

describe('Transport – requests come from the contract', () => {
  it('builds path, method, query, headers and body from the route', async () => {
    const { calls, fetch } = scriptedFetch([appendOk, { status: 200, body: { messages: [] } }]);
    const ctx = handle(fetch);
    await ctx.append(
      { role: 'user', parts: [{ type: 'text', text: 'hey' }] },
      { ifVersion: 0, tokenCount: 3 },
    );
    await ctx.getTail({ offset: 2, limit: 5 });
    expect(calls[0]).toMatchObject({
      url: 'http://fastpaca.test/v1/contexts/ctx-1/messages',
      method: 'POST',
    });
    expect(JSON.parse(calls[0]!.body!)).toEqual({
      message: { role: 'user', parts: [{ type: 'text', text: 'hey' }], token_count: 3 },
      if_version: 0,
    });
    expect(calls[0]!.headers.get('authorization')).toBe('Bearer secret');
    expect(calls[0]!.headers.get('content-type')).toBe('application/json');
    expect(calls[0]!.headers.get('x-app')).toBe('tests');
    expect(calls[0]!.headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls[1]).toMatchObject({ url: 'http://fastpaca.test/v1/contexts/ctx-1/tail?offset=2&limit=5' });
    expect(calls[1]!.headers.get('content-type')).toBeNull();
  });
});

describe('Transport – retries', () => {
  it('retries network errors, 429 and 503 with one idempotency key, then succeeds', async () => {
    const { calls, fetch } = scriptedFetch([
      new TypeError('fetch failed'),
      { status: 429, body: errorBody('rate_limited') },
      { status: 503, body: errorBody('unavailable') },
      appendOk,
    ]);
    const result = await handle(fetch).append({ role: 'user', parts: [{ type: 'text' }] });
    expect(result).toEqual({ seq: 1, version: 1, token_estimate: 3, replayed: false });
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((c) => c.headers.get('idempotency-key'))).size).toBe(1);
  });

  it('compaction is retried only when the server proves it took no effect', async () => {
    const replacement = [{ role: 'system', parts: [{ type: 'text', text: 'summary' }] }];
    const unknown = { status: 503, body: { ...errorBody('unavailable'), details: { outcome: 'unknown' } } };
    const notApplied = {
      status: 503,
      body: { ...errorBody('unavailable'), details: { outcome: 'not_applied' } },
    };
    const ok = { status: 200, body: { version: 9 } };

    const retried = scriptedFetch([{ status: 429, body: errorBody('rate_limited') }, notApplied, ok]);
    expect(await handle(retried.fetch).compact(replacement)).toEqual({ version: 9 });
    expect(retried.calls).toHaveLength(3);

    const ambiguous = scriptedFetch([unknown, ok]);
    const error = await handle(ambiguous.fetch)
      .compact(replacement)
      .catch((e: unknown) => e);
    expect(UnavailableError.isInstance(error)).toBe(true);
    expect(ambiguous.calls).toHaveLength(1);

    const lost = scriptedFetch([new TypeError('fetch failed'), ok]);
    const lostError = await handle(lost.fetch)
      .compact(replacement)
      .catch((e: unknown) => e);
    expect(NetworkError.isInstance(lostError)).toBe(true);
    expect(lost.calls).toHaveLength(1);
  });

  it('a 200 on append means the key was seen before: replayed', async () => {
    const { fetch } = scriptedFetch([{ status: 200, body: appendOk.body }]);
    const result = await handle(fetch).append(
      { role: 'user', parts: [{ type: 'text' }] },
      { idempotencyKey: 'k' },
    );
    expect(result.replayed).toBe(true);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { calls, fetch } = scriptedFetch([{ status: 503, body: errorBody('unavailable') }]);
    const error = await handle(fetch)
      .get()
      .catch((e: unknown) => e);
    expect(UnavailableError.isInstance(error)).toBe(true);
    expect(calls).toHaveLength(4);
  });

  it('does not retry answers a retry would repeat (400, 401, 404, 409, 500)', async () => {
    for (const [status, code] of [
      [400, 'invalid_request'],
      [401, 'unauthorized'],
      [404, 'not_found'],
      [409, 'conflict'],
      [500, 'internal'],
    ] as const) {
      const { calls, fetch } = scriptedFetch([{ status, body: errorBody(code) }, appendOk]);
      await expect(handle(fetch).get()).rejects.toMatchObject({ status, code });
      expect(calls).toHaveLength(1);
    }
  });

  it('waits as long as Retry-After asks (within the cap)', async () => {
    const { calls, fetch } = scriptedFetch([
      { status: 429, body: errorBody('rate_limited'), headers: { 'retry-after': '1' } },
      { status: 200, body: { messages: [] } },
    ]);
    await handle(fetch, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2_000 }).getTail();
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('stops retrying an append halfway through the time the server remembers its key', async () => {
    vi.useFakeTimers();
    try {
      const { calls, fetch } = scriptedFetch([{ status: 503, body: errorBody('unavailable') }]);
      const ctx = handle(fetch, { maxAttempts: 1_000, baseDelayMs: 8_000, maxDelayMs: 8_000 });
      const started = Date.now();
      const outcome = ctx.append({ role: 'user', parts: [{ type: 'text' }] }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(limits.idempotency_retention_ms);
      expect(UnavailableError.isInstance(await outcome)).toBe(true);
      const window = limits.idempotency_retention_ms / 2;
      // every attempt, the last one's whole timeout included, fits in half the retention
      expect(calls.at(-1)!.at - started + 200).toBeLessThanOrEqual(window);
      expect(calls.length).toBeGreaterThan((window - 8_000 - 200) / 8_000);
      expect(new Set(calls.map((call) => call.headers.get('idempotency-key'))).size).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('other calls keep retrying up to maxAttempts, however long that takes', async () => {
    vi.useFakeTimers();
    try {
      const { calls, fetch } = scriptedFetch([{ status: 503, body: errorBody('unavailable') }]);
      const ctx = handle(fetch, { maxAttempts: 100, baseDelayMs: 8_000, maxDelayMs: 8_000 });
      const outcome = ctx.get().catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(100 * 8_000);
      expect(UnavailableError.isInstance(await outcome)).toBe(true);
      expect(calls).toHaveLength(100);
    } finally {
      vi.useRealTimers();
    }
  });

  it('retry: false is one attempt', async () => {
    const { calls, fetch } = scriptedFetch([{ status: 429, body: errorBody('rate_limited') }]);
    const single = handle(fetch, false);
    await expect(single.get()).rejects.toSatisfy(RateLimitedError.isInstance);
    expect(calls).toHaveLength(1);
  });

  it('an attempt that hangs past timeoutMs is a NetworkError and is retried', async () => {
    let calls = 0;
    const hanging: typeof globalThis.fetch = (_input, init) => {
      calls++;
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    };
    const error = await handle(hanging, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 })
      .get()
      .catch((e: unknown) => e);
    expect(NetworkError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('no answer within 200 ms');
    expect(calls).toBe(2);
  });

  it('aborting stops the call, including a pending backoff wait', async () => {
    const { calls, fetch } = scriptedFetch([{ status: 503, body: errorBody('unavailable') }]);
    const controller = new AbortController();
    const ctx = handle(fetch, { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 10_000 });
    const pending = ctx.get({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toHaveLength(1);
  });

  it('a 2xx body that is not JSON is an invalid_response error', async () => {
    const fetch: typeof globalThis.fetch = async () => new Response('<html>', { status: 200 });
    await expect(handle(fetch).get()).rejects.toMatchObject({ code: 'invalid_response', isRetryable: false });
  });
});
