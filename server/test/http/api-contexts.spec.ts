import { ContextSchema, MessagesPageSchema, TailResponseSchema, WindowSchema } from '@fastpaca/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from './client.js';

let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;
let n = 0;
/** A fresh context id per test keeps tests independent on one server. */
const fresh = (prefix = 'ctx') => `${prefix}-${++n}`;

beforeAll(async () => {
  server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1' } });
  api = jsonClient(server.url);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

async function create(id: string, body: Record<string, unknown> = { token_budget: 1000 }) {
  const res = await api.put(`/v1/contexts/${id}`, body);
  expect(res.status).toBe(200);
  return res.body;
}

describe('PUT /v1/contexts/:id', () => {
  it('creates with defaults and returns the context', async () => {
    const id = fresh();
    const res = await api.put(`/v1/contexts/${id}`, { token_budget: 500 });
    expect(res.status).toBe(200);
    expect(ContextSchema.parse(res.body)).toMatchObject({
      id,
      token_budget: 500,
      trigger_ratio: 0.7,
      policy: { strategy: 'last_n', config: { limit: 200 } },
      metadata: {},
      status: 'active',
      version: 0,
      last_seq: 0,
      archived_seq: 0,
    });
  });

  it('is idempotent: the same config twice changes nothing; a change bumps version', async () => {
    const id = fresh();
    const body = {
      token_budget: 500,
      trigger_ratio: 0.5,
      policy: { strategy: 'manual' },
      metadata: { a: 1 },
    };
    await create(id, body);
    expect((await api.put(`/v1/contexts/${id}`, body)).body.version).toBe(0);
    const changed = await api.put(`/v1/contexts/${id}`, { token_budget: 800 });
    expect(changed.body).toMatchObject({
      version: 1,
      token_budget: 800,
      trigger_ratio: 0.5,
      metadata: { a: 1 },
    });
    expect(changed.body.policy).toEqual({ strategy: 'manual', config: {} });
  });

  it('rejects bad bodies with 400 naming the field', async () => {
    const id = fresh();
    for (const [body, field] of [
      [{}, 'body.token_budget'],
      [{ token_budget: -1 }, 'body.token_budget'],
      [{ token_budget: 10, trigger_ratio: 2 }, 'body.trigger_ratio'],
      [{ token_budget: 10, policy: { strategy: 'lru' } }, 'body.policy.strategy'],
      [{ token_budget: 10, typo: true }, 'body'],
    ] as const) {
      const res = await api.put(`/v1/contexts/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.message).toContain(field);
    }
    expect((await api.get(`/v1/contexts/${id}`)).status).toBe(404);
  });

  it('rejects bad ids with 400', async () => {
    for (const id of ['a%2Fb', 'x'.repeat(257), 'caf%C3%A9', 'a%20b']) {
      const res = await api.put(`/v1/contexts/${id}`, { token_budget: 10 });
      expect(res.status, id).toBe(400);
      expect(res.body.message).toContain('path.id');
    }
    expect((await api.put(`/v1/contexts/${'x'.repeat(256)}`, { token_budget: 10 })).status).toBe(200);
  });
});

describe('GET /v1/contexts/:id', () => {
  it('returns the context or 404', async () => {
    const id = fresh();
    expect((await api.get(`/v1/contexts/${id}`)).status).toBe(404);
    expect((await api.get(`/v1/contexts/${id}`)).body).toEqual({
      error: 'not_found',
      message: `context ${id} does not exist`,
    });
    await create(id);
    const res = await api.get(`/v1/contexts/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(id);
  });
});

describe('POST /v1/contexts/:id/messages', () => {
  it('appends with dense seq and version, 201 {seq, version, token_estimate}', async () => {
    const id = fresh();
    await create(id);
    const a = await api.post(`/v1/contexts/${id}/messages`, { message: text('hello') });
    const b = await api.post(`/v1/contexts/${id}/messages`, { message: text('world!') });
    expect(a.status).toBe(201);
    expect(a.body).toEqual({ seq: 1, version: 1, token_estimate: 5 });
    expect(b.body).toEqual({ seq: 2, version: 2, token_estimate: 6 });
    const ctx = (await api.get(`/v1/contexts/${id}`)).body;
    expect(ctx).toMatchObject({ last_seq: 2, version: 2 });
  });

  it('an atomic turn: messages [..] land as one version with dense seqs, 201 {first_seq, seq, version, token_estimate}', async () => {
    const id = fresh();
    await create(id);
    await api.post(`/v1/contexts/${id}/messages`, { message: text('before') });
    const turn = await api.post(
      `/v1/contexts/${id}/messages`,
      {
        messages: [
          { role: 'assistant', parts: [{ type: 'tool-call', id: 'c1', name: 'weather' }] },
          { role: 'tool', parts: [{ type: 'tool-result', id: 'c1', text: 'sunny' }], token_count: 3 },
          text('done'),
        ],
        if_version: 1,
      },
      { 'idempotency-key': 'turn-1' },
    );
    expect(turn.status).toBe(201);
    expect(turn.body).toMatchObject({ first_seq: 2, seq: 4, version: 2 });
    const replay = await api.post(
      `/v1/contexts/${id}/messages`,
      { messages: [text('anything')] },
      { 'idempotency-key': 'turn-1' },
    );
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(turn.body);
    const tail = (await api.get(`/v1/contexts/${id}/tail`)).body.messages;
    expect(tail.map((m: { seq: number; role: string }) => [m.seq, m.role])).toEqual([
      [1, 'user'],
      [2, 'assistant'],
      [3, 'tool'],
      [4, 'user'],
    ]);
    expect((await api.get(`/v1/contexts/${id}`)).body).toMatchObject({ last_seq: 4, version: 2 });
  });

  it('an atomic turn is all or nothing: one bad message, a stale if_version or both forms at once apply nothing', async () => {
    const id = fresh();
    await create(id);
    const bad = await api.post(`/v1/contexts/${id}/messages`, {
      messages: [text('fine'), { role: 'user', parts: 'not a list' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('messages.1');
    const stale = await api.post(`/v1/contexts/${id}/messages`, {
      messages: [text('a'), text('b')],
      if_version: 7,
    });
    expect(stale.status).toBe(409);
    const both = await api.post(`/v1/contexts/${id}/messages`, { message: text('a'), messages: [text('b')] });
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('either message or messages');
    const neither = await api.post(`/v1/contexts/${id}/messages`, {});
    expect(neither.status).toBe(400);
    const empty = await api.post(`/v1/contexts/${id}/messages`, { messages: [] });
    expect(empty.status).toBe(400);
    const tooMany = await api.post(`/v1/contexts/${id}/messages`, {
      messages: Array.from({ length: 101 }, (_, i) => text(`m${i}`)),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain('at most 100');
    expect((await api.get(`/v1/contexts/${id}`)).body).toMatchObject({ last_seq: 0, version: 0 });
  });

  it('uses a client token_count verbatim', async () => {
    const id = fresh();
    await create(id);
    const res = await api.post(`/v1/contexts/${id}/messages`, {
      message: text('hello', { token_count: 42 }),
    });
    expect(res.body.token_estimate).toBe(42);
  });

  it('if_version: stale → 409 naming expected and found; current → 201', async () => {
    const id = fresh();
    await create(id);
    await api.post(`/v1/contexts/${id}/messages`, { message: text('one') });
    const stale = await api.post(`/v1/contexts/${id}/messages`, { message: text('two'), if_version: 0 });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({
      error: 'conflict',
      message: 'version mismatch: expected 0, found 1',
      details: { expected: 0, found: 1 },
    });
    const current = await api.post(`/v1/contexts/${id}/messages`, { message: text('two'), if_version: 1 });
    expect(current.status).toBe(201);
    expect(current.body.version).toBe(2);
  });

  it('the same Idempotency-Key twice appends once and returns the original with 200', async () => {
    const id = fresh();
    await create(id);
    const first = await api.post(
      `/v1/contexts/${id}/messages`,
      { message: text('once') },
      { 'idempotency-key': 'k-1' },
    );
    const again = await api.post(
      `/v1/contexts/${id}/messages`,
      { message: text('once') },
      { 'idempotency-key': 'k-1' },
    );
    const viaBody = await api.post(`/v1/contexts/${id}/messages`, {
      message: text('once'),
      idempotency_key: 'k-1',
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(viaBody.status).toBe(200);
    expect((await api.get(`/v1/contexts/${id}/tail`)).body.messages).toHaveLength(1);
    const mismatch = await api.post(
      `/v1/contexts/${id}/messages`,
      { message: text('x'), idempotency_key: 'a' },
      { 'idempotency-key': 'b' },
    );
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toContain('idempotency_key');
  });

  it('404 for an unknown context; 400 naming bad message fields', async () => {
    expect((await api.post(`/v1/contexts/${fresh()}/messages`, { message: text('x') })).status).toBe(404);
    const id = fresh();
    await create(id);
    for (const [message, field] of [
      [{ parts: [{ type: 'text', text: 'x' }] }, 'body.message.role'],
      [{ role: 'user', parts: [] }, 'body.message.parts'],
      [{ role: 'user', parts: [{ text: 'no type' }] }, 'body.message.parts.0.type'],
      [{ role: 'user', parts: [{ type: 'text' }], token_count: -1 }, 'body.message.token_count'],
    ] as const) {
      const res = await api.post(`/v1/contexts/${id}/messages`, { message });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    }
    const badVersion = await api.post(`/v1/contexts/${id}/messages`, { message: text('x'), if_version: 1.5 });
    expect(badVersion.body.message).toContain('body.if_version');
    expect((await api.get(`/v1/contexts/${id}`)).body.last_seq).toBe(0);
  });
});

describe('DELETE /v1/contexts/:id (tombstone)', () => {
  it('204; later appends get 409; history stays readable; deleting again is a no-op', async () => {
    const id = fresh();
    await create(id);
    await api.post(`/v1/contexts/${id}/messages`, { message: text('kept') });
    const del = await api.del(`/v1/contexts/${id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    const append = await api.post(`/v1/contexts/${id}/messages`, { message: text('late') });
    expect(append.status).toBe(409);
    expect(append.body.error).toBe('conflict');
    expect((await api.get(`/v1/contexts/${id}`)).body).toMatchObject({
      status: 'tombstoned',
      last_seq: 1,
      version: 2,
    });
    expect(
      (await api.get(`/v1/contexts/${id}/tail`)).body.messages.map((m: { parts: unknown }) => m.parts),
    ).toEqual([[{ type: 'text', text: 'kept' }]]);
    expect((await api.get(`/v1/contexts/${id}/messages`)).body.messages).toHaveLength(1);
    expect((await api.del(`/v1/contexts/${id}`)).status).toBe(204);
    expect((await api.put(`/v1/contexts/${id}`, { token_budget: 5 })).status).toBe(409);
    expect((await api.patch(`/v1/contexts/${id}/metadata`, { metadata: { a: 1 } })).status).toBe(409);
    expect((await api.post(`/v1/contexts/${id}/compact`, { replacement: [] })).status).toBe(409);
    expect((await api.del(`/v1/contexts/${fresh()}`)).status).toBe(404);
  });
});

describe('PATCH /v1/contexts/:id/metadata', () => {
  it('merges, null removes, version +1; 404 unknown', async () => {
    const id = fresh();
    await create(id, { token_budget: 10, metadata: { a: 1, b: 2 } });
    const res = await api.patch(`/v1/contexts/${id}/metadata`, { metadata: { b: null, c: { d: true } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ metadata: { a: 1, c: { d: true } }, version: 1 });
    expect((await api.patch(`/v1/contexts/${fresh()}/metadata`, { metadata: {} })).status).toBe(404);
    expect((await api.patch(`/v1/contexts/${id}/metadata`, { metadata: [1] })).status).toBe(400);
  });
});

describe('GET /v1/contexts/:id/tail and /messages', () => {
  it('tail pages newest-first, each page chronological, empty at the beginning', async () => {
    const id = fresh();
    await create(id, { token_budget: 100_000 });
    for (let i = 1; i <= 7; i++) await api.post(`/v1/contexts/${id}/messages`, { message: text(`m${i}`) });
    const page = async (offset: number) =>
      TailResponseSchema.parse(
        (await api.get(`/v1/contexts/${id}/tail?offset=${offset}&limit=3`)).body,
      ).messages.map((m) => m.seq);
    expect(await page(0)).toEqual([5, 6, 7]);
    expect(await page(3)).toEqual([2, 3, 4]);
    expect(await page(6)).toEqual([1]);
    expect(await page(7)).toEqual([]);
    expect((await api.get(`/v1/contexts/${id}/tail?limit=1001`)).status).toBe(400);
    expect((await api.get(`/v1/contexts/${id}/tail?offset=-1`)).status).toBe(400);
    expect((await api.get(`/v1/contexts/${fresh()}/tail`)).status).toBe(404);
  });

  it('messages pages forward by seq with next_after_seq, null at the end', async () => {
    const id = fresh();
    await create(id, { token_budget: 100_000 });
    for (let i = 1; i <= 5; i++) await api.post(`/v1/contexts/${id}/messages`, { message: text(`m${i}`) });
    const p1 = MessagesPageSchema.parse(
      (await api.get(`/v1/contexts/${id}/messages?after_seq=0&limit=2`)).body,
    );
    expect(p1.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(p1.next_after_seq).toBe(2);
    const p3 = MessagesPageSchema.parse(
      (await api.get(`/v1/contexts/${id}/messages?after_seq=4&limit=2`)).body,
    );
    expect(p3).toMatchObject({ next_after_seq: null });
    expect(p3.messages.map((m) => m.seq)).toEqual([5]);
    expect((await api.get(`/v1/contexts/${id}/messages?after_seq=5`)).body).toEqual({
      messages: [],
      next_after_seq: null,
    });
    expect((await api.get(`/v1/contexts/${id}/messages?after_seq=abc`)).status).toBe(400);
  });
});

describe('GET /v1/contexts/:id/context (the LLM window)', () => {
  it('last_n trims at the trigger; budget_tokens trims only the response; if_version 409', async () => {
    const id = fresh();
    // chars:1 counts one token per character: each 30-char message is 30 tokens.
    await create(id, { token_budget: 100, trigger_ratio: 0.7 });
    for (let i = 1; i <= 3; i++)
      await api.post(`/v1/contexts/${id}/messages`, { message: text(`${i}`.repeat(30)) });
    const w = WindowSchema.parse((await api.get(`/v1/contexts/${id}/context`)).body);
    expect(w.messages.map((m) => m.seq)).toEqual([2, 3]);
    expect(w).toMatchObject({ used_tokens: 60, needs_compaction: false, version: 3 });
    expect(w.segments).toEqual([{ type: 'live', from_seq: 2, to_seq: 3 }]);
    const trimmed = (await api.get(`/v1/contexts/${id}/context?budget_tokens=40`)).body;
    expect(trimmed.messages.map((m: { seq: number }) => m.seq)).toEqual([3]);
    expect(trimmed.used_tokens).toBe(30);
    expect((await api.get(`/v1/contexts/${id}/context`)).body.used_tokens).toBe(60);
    expect((await api.get(`/v1/contexts/${id}/context?if_version=2`)).status).toBe(409);
    expect((await api.get(`/v1/contexts/${id}/context?if_version=3`)).status).toBe(200);
    expect((await api.get(`/v1/contexts/${id}/context?budget_tokens=0`)).status).toBe(400);
  });

  it('manual policy flips needs_compaction and keeps everything', async () => {
    const id = fresh();
    await create(id, { token_budget: 100, policy: { strategy: 'manual' } });
    for (let i = 1; i <= 3; i++)
      await api.post(`/v1/contexts/${id}/messages`, { message: text('x'.repeat(30)) });
    const w = (await api.get(`/v1/contexts/${id}/context`)).body;
    expect(w).toMatchObject({ used_tokens: 90, needs_compaction: true });
    expect(w.messages).toHaveLength(3);
  });
});

describe('POST /v1/contexts/:id/compact', () => {
  it('replaces the window atomically; the log is untouched; segments show summary then live', async () => {
    const id = fresh();
    await create(id, { token_budget: 1000, policy: { strategy: 'manual' } });
    for (let i = 1; i <= 4; i++) await api.post(`/v1/contexts/${id}/messages`, { message: text(`m${i}`) });
    const stale = await api.post(`/v1/contexts/${id}/compact`, { replacement: [], if_version: 1 });
    expect(stale.status).toBe(409);
    const res = await api.post(`/v1/contexts/${id}/compact`, {
      replacement: [{ role: 'system', parts: [{ type: 'text', text: 'summary' }] }],
      if_version: 4,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ version: 5 });
    await api.post(`/v1/contexts/${id}/messages`, { message: text('after') });
    const w = (await api.get(`/v1/contexts/${id}/context`)).body;
    expect(w.messages.map((m: { seq: number | null }) => m.seq)).toEqual([null, 5]);
    expect(w.used_tokens).toBe(12);
    expect(w.segments).toEqual([
      { type: 'summary', from_seq: 1, to_seq: 4 },
      { type: 'live', from_seq: 5, to_seq: 5 },
    ]);
    expect((await api.get(`/v1/contexts/${id}/messages`)).body.messages).toHaveLength(5);
    expect((await api.post(`/v1/contexts/${fresh()}/compact`, { replacement: [] })).status).toBe(404);
  });
});

describe('non-API endpoints and malformed requests', () => {
  it('health, metrics, docs', async () => {
    expect((await api.get('/health/live')).status).toBe(200);
    expect((await api.get('/health/ready')).body).toEqual({ status: 'ready' });
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    for (const name of [
      'fastpaca_messages_append_total',
      'fastpaca_messages_token_count',
      'fastpaca_archive_pending_rows',
      'fastpaca_archive_pending_contexts',
      'fastpaca_archive_flush_duration_ms',
      'fastpaca_archive_attempted_total',
      'fastpaca_archive_inserted_total',
      'fastpaca_archive_lag',
      'fastpaca_archive_tail_size',
      'fastpaca_archive_trimmed_total',
      'fastpaca_archive_llm_token_count',
      'fastpaca_http_request_duration_seconds',
      'fastpaca_raft_leader_changes_total',
      'fastpaca_raft_commit_latency_seconds',
      'fastpaca_raft_log_entries',
      'fastpaca_stream_connections',
    ]) {
      expect(metrics, name).toContain(`# TYPE ${name} `);
    }
    expect(metrics).toMatch(
      /fastpaca_messages_append_total\{role="user",source="estimator",node="[^"]+"\} \d+/,
    );
  });

  it('malformed JSON, wrong content type, unknown routes: coded 4xx, never a stack', async () => {
    const id = fresh();
    await create(id);
    const bad = await api.call('POST', `/v1/contexts/${id}/messages`, '{"message":', {
      'content-type': 'application/json',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    const plain = await api.call('POST', `/v1/contexts/${id}/messages`, 'hello', {
      'content-type': 'text/plain',
    });
    expect(plain.status).toBe(415);
    expect(plain.body.error).toBe('unsupported_media_type');
    const unknown = await api.get('/v2/nothing');
    expect(unknown).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const proto = await api.call('PUT', `/v1/contexts/${id}`, '{"token_budget":5,"__proto__":{"x":1}}', {
      'content-type': 'application/json',
    });
    expect(proto.status).toBe(400);
    const badUrl = await api.get('/v1/contexts/%E0%A4%A');
    expect(badUrl).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const longId = await api.get(`/v1/contexts/${'x'.repeat(3_000)}`);
    expect(longId.status).toBe(400);
    expect(longId.body.error).toBe('invalid_request');
    const nested = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const deep = await api.call(
      'POST',
      `/v1/contexts/${id}/messages`,
      `{"message":{"role":"user","parts":[{"type":"data","value":${nested}}]}}`,
      { 'content-type': 'application/json' },
    );
    expect(deep.status).toBe(400);
    expect(deep.body.message).toContain('nested deeper than 64 levels');
    for (const r of [bad, plain, unknown, proto, badUrl, longId, deep]) {
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
