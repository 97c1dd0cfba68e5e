import { ContextSchema, MessagesPageSchema, TailResponseSchema } from '@fastpaca/contract';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveRow, PgArchiveStore } from '../../src/archive/archive-store.js';
import { startTestDatabase, type TestDatabase } from '../../src/testing/postgres.js';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient } from '../http/client.js';
import { eventually, metricValue } from '../stream-ws/stream-client.js';
import { ToggleProxy } from './toggle-proxy.js';

const TAIL_KEEP = 10;

let db: TestDatabase;
let proxy: ToggleProxy;
let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;

function archiveEnv(databaseUrl: string): Record<string, string> {
  return {
    FASTPACA_TOKEN_ESTIMATOR: 'chars:1',
    FASTPACA_ARCHIVER_ENABLED: 'true',
    DATABASE_URL: databaseUrl,
    MIGRATE_ON_BOOT: 'true',
    FASTPACA_ARCHIVE_FLUSH_INTERVAL_MS: '50',
    FASTPACA_ARCHIVER_BATCH_SIZE: '25',
    FASTPACA_TAIL_KEEP: String(TAIL_KEEP),
  };
}

beforeAll(async () => {
  db = await startTestDatabase();
  const url = new URL(db.url);
  proxy = await ToggleProxy.start({ host: url.hostname, port: Number(url.port) });
  server = await startServerProcess({ env: archiveEnv(proxy.rewrite(db.url)) });
  api = jsonClient(server.url);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  await proxy?.down();
  await db?.stop();
});

/** A message with every kind of content the archive must keep intact. */
function message(i: number) {
  return {
    role: i % 3 === 0 ? 'assistant' : 'user',
    parts: [
      {
        type: 'text',
        text: `message ${i} — ünïcödé ✓ "quoted" \\ back\nslash${i % 5 === 0 ? ' nul \u0000' : ''}`,
      },
      ...(i % 4 === 0
        ? [{ type: 'tool-call', toolCallId: `call-${i}`, args: { nested: { list: [1, 2.5, null, true] } } }]
        : []),
    ],
    metadata: i % 2 === 0 ? { turn: i, tags: ['a', 'b'], deep: { x: { y: 'z' } } } : {},
  };
}

async function appendAll(id: string, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const res = await api.post(`/v1/contexts/${id}/messages`, { message: message(i) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.seq).toBe(i);
  }
}

async function context(id: string) {
  return ContextSchema.parse((await api.get(`/v1/contexts/${id}`)).body);
}

async function allMessages(id: string) {
  const res = await api.get(`/v1/contexts/${id}/messages?after_seq=0&limit=1000`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return MessagesPageSchema.parse(res.body).messages;
}

function expectSent(messages: { seq: number; role: string; parts: unknown; metadata: unknown }[], n: number) {
  expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  for (const m of messages) {
    const sent = message(m.seq);
    expect({ role: m.role, parts: m.parts, metadata: m.metadata }).toEqual(sent);
  }
}

describe('Postgres archive', () => {
  it('archives every message, trims the tail to FASTPACA_TAIL_KEEP and serves old pages from Postgres', async () => {
    const id = 'archived-1';
    expect((await api.put(`/v1/contexts/${id}`, { token_budget: 100_000 })).status).toBe(200);
    await appendAll(id, 1, 60);
    const before = await allMessages(id);

    await eventually(
      () => context(id),
      (c) => c.archived_seq === 60,
    );

    const rows = await db.query<{ seq: string; token_count: number }>(
      'SELECT seq, token_count FROM messages WHERE context_id = $1 ORDER BY seq',
      [id],
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(before.map((m) => m.seq));
    expect(rows.map((r) => r.token_count)).toEqual(before.map((m) => m.token_count));

    // The tail is trimmed to TAIL_KEEP once archived; the first 50 now come from Postgres.
    expect(await metricValue(server.url, 'fastpaca_archive_trimmed_total')).toBeGreaterThanOrEqual(50);
    expect(await metricValue(server.url, 'fastpaca_archive_inserted_total')).toBeGreaterThanOrEqual(60);
    const after = await allMessages(id);
    expect(after).toEqual(before);
    expectSent(after, 60);

    const tail = TailResponseSchema.parse((await api.get(`/v1/contexts/${id}/tail?offset=40&limit=15`)).body);
    expect(tail.messages.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 6));
    expect(tail.messages).toEqual(before.slice(5, 20));

    const paged = MessagesPageSchema.parse(
      (await api.get(`/v1/contexts/${id}/messages?after_seq=45&limit=10`)).body,
    );
    expect(paged.messages).toEqual(before.slice(45, 55));
  });

  it('keeps accepting appends while Postgres is down, trims nothing unarchived, and catches up when it is back', async () => {
    const id = 'archived-outage';
    expect((await api.put(`/v1/contexts/${id}`, { token_budget: 100_000 })).status).toBe(200);
    await proxy.down();
    try {
      await appendAll(id, 1, 30);
      // Several flush intervals pass without the archive.
      await eventually(
        () => metricValue(server.url, 'fastpaca_archive_pending_rows'),
        (rows) => rows >= 30,
      );
      expect((await context(id)).archived_seq).toBe(0);
      expectSent(await allMessages(id), 30);

      // Pages below the retained tail of an archived context need Postgres: 503, not a wrong answer.
      const old = await api.get('/v1/contexts/archived-1/messages?after_seq=0&limit=5');
      expect(old.status).toBe(503);
      expect(old.headers.get('retry-after')).toBe('1');
      expect(old.body.error).toBe('unavailable');
      expect(old.body.message).toMatch(/archive, which cannot be read now/);
      // Exactly TAIL_KEEP messages stayed in memory: one more needs the archive.
      expect((await api.get(`/v1/contexts/archived-1/tail?offset=0&limit=${TAIL_KEEP}`)).status).toBe(200);
      expect((await api.get(`/v1/contexts/archived-1/tail?offset=0&limit=${TAIL_KEEP + 1}`)).status).toBe(
        503,
      );
    } finally {
      await proxy.up();
    }
    await eventually(
      () => context(id),
      (c) => c.archived_seq === 30,
    );
    expectSent(await allMessages(id), 30);
    const [{ n }] = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM messages WHERE context_id = $1',
      [id],
    );
    expect(Number(n)).toBe(30);
  });

  it('serves archived history after a restart', async () => {
    const before = await allMessages('archived-1');
    await server.stop();
    server = await startServerProcess({ dataDir: server.dataDir, env: archiveEnv(proxy.rewrite(db.url)) });
    api = jsonClient(server.url);
    expect(await allMessages('archived-1')).toEqual(before);
    expect((await context('archived-1')).archived_seq).toBe(60);
  });
});

describe('Postgres archive under a hung database', () => {
  it('shuts down cleanly and in time while an insert waits on a lock, and archives after restart', async () => {
    const id = 'archived-hang';
    expect((await api.put(`/v1/contexts/${id}`, { token_budget: 100_000 })).status).toBe(200);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
      const attempted = () => metricValue(server.url, 'fastpaca_archive_attempted_total');
      const before = await attempted();
      await appendAll(id, 1, 5);
      // A flush has sent rows (some or all five) and its INSERT waits on the lock: no further flush starts.
      await eventually(attempted, (n) => n > before);
      const stuckAt = await attempted();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await attempted()).toBe(stuckAt);
      expect((await context(id)).archived_seq).toBe(0);
      const started = performance.now();
      // Exit 0 means within FASTPACA_SHUTDOWN_TIMEOUT_MS (10 s; past it the process exits 1); measured
      // from here it includes signal delivery and process exit, which a loaded 2-core CI machine stretches.
      expect(await server.stop()).toBe(0);
      expect(performance.now() - started).toBeLessThan(10_500);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    server = await startServerProcess({ dataDir: server.dataDir, env: archiveEnv(proxy.rewrite(db.url)) });
    api = jsonClient(server.url);
    await eventually(
      () => context(id),
      (c) => c.archived_seq === 5,
    );
    expectSent(await allMessages(id), 5);
  }, 60_000);
});

describe('PgArchiveStore', () => {
  it('inserts idempotently: rows already archived are not inserted again', async () => {
    const store = PgArchiveStore.create(db.url, { migrate: true, onError: () => {} });
    try {
      const row = (seq: number) =>
        archiveRow('store-direct', {
          seq,
          role: 'user',
          parts: [{ type: 'text', text: `m${seq}` }],
          metadata: {},
          token_count: 2,
          inserted_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
        });
      expect(await store.insert([row(1), row(2)])).toBe(2);
      expect(await store.insert([row(1), row(2), row(3)])).toBe(1);
      expect(await store.range('store-direct', 1, 3)).toEqual([row(1), row(2), row(3)].map((r) => r.message));
      expect(await store.range('store-direct', 2, 2)).toEqual([row(2).message]);
    } finally {
      await store.close();
    }
  });

  it('keeps values jsonb cannot hold: U+0000 in text and metadata, and metadata shaped like its own wrapper', async () => {
    const store = PgArchiveStore.create(db.url, { migrate: true, onError: () => {} });
    try {
      const messages = [
        {
          parts: [{ type: 'text', text: 'nul \u0000 here, and a literal \\u0000' }],
          metadata: { k: 'v\u0000' },
        },
        { parts: [{ type: 'text', text: 'plain' }], metadata: { $fastpaca_json_base64: 'not really' } },
        { parts: [{ type: 'data', value: { '\u0000key': [1, '\u0000'] } }], metadata: {} },
      ].map((m, i) => ({
        ...m,
        seq: i + 1,
        role: 'user',
        token_count: 1,
        inserted_at: new Date(Date.UTC(2026, 0, 1)).toISOString(),
      }));
      expect(await store.insert(messages.map((m) => archiveRow('store-nul', m)))).toBe(3);
      expect(await store.range('store-nul', 1, 3)).toEqual(messages);
      // Ordinary values stay ordinary jsonb, queryable in SQL.
      const [plain] = await db.query<{ text: string }>(
        "SELECT parts->0->>'text' AS text FROM messages WHERE context_id = 'store-nul' AND seq = 2",
      );
      expect(plain?.text).toBe('plain');
    } finally {
      await store.close();
    }
  });
});
