import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from '../http/client.js';

interface Ack {
  id: string;
  seq: number;
  body: string;
}

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.kill();
  servers[0]?.cleanup();
});

async function readAll(api: ReturnType<typeof jsonClient>, id: string) {
  const messages: { seq: number; parts: { text: string }[] }[] = [];
  let after = 0;
  for (;;) {
    const page = (await api.get(`/v1/contexts/${id}/messages?after_seq=${after}&limit=1000`)).body;
    messages.push(...page.messages);
    if (page.next_after_seq === null) return messages;
    after = page.next_after_seq;
  }
}

describe('durability – kill -9 under load', () => {
  it('every acknowledged append survives, nothing is duplicated, seq and version continue densely', async () => {
    const contexts = Array.from({ length: 8 }, (_, i) => `dur-${i}`);
    let server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:4' } });
    servers.push(server);
    const { dataDir, port } = server;
    let api = jsonClient(server.url);
    for (const id of contexts) await api.put(`/v1/contexts/${id}`, { token_budget: 1_000_000 });

    const acked: Ack[] = [];
    /** Appends whose outcome is unknown because the server died mid-request. */
    const inflight = new Map<string, { id: string; body: string }>();
    let counter = 0;

    for (let round = 0; round < 3; round++) {
      let stop = false;
      const writers = contexts.flatMap((id) =>
        [0, 1].map(async () => {
          while (!stop) {
            const body = `r${round}-m${++counter}`;
            const key = `key-${body}`;
            inflight.set(key, { id, body });
            try {
              const res = await api.post(
                `/v1/contexts/${id}/messages`,
                { message: text(body) },
                { 'idempotency-key': key },
              );
              if (res.status !== 201) throw new Error(`append ${res.status} ${JSON.stringify(res.body)}`);
              acked.push({ id, seq: res.body.seq, body });
              inflight.delete(key);
            } catch (error) {
              if (stop) return;
              throw error;
            }
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 400 + round * 300));
      stop = true;
      await server.kill();
      await Promise.allSettled(writers);

      server = await startServerProcess({ dataDir, port, env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:4' } });
      servers.push(server);
      api = jsonClient(server.url);

      // Retrying an unknown outcome with its key never duplicates it.
      for (const [key, { id, body }] of inflight) {
        const res = await api.post(
          `/v1/contexts/${id}/messages`,
          { message: text(body) },
          { 'idempotency-key': key },
        );
        expect([200, 201]).toContain(res.status);
        acked.push({ id, seq: res.body.seq, body });
      }
      inflight.clear();

      for (const id of contexts) {
        const messages = await readAll(api, id);
        const ctx = (await api.get(`/v1/contexts/${id}`)).body;
        expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: messages.length }, (_, i) => i + 1));
        expect(ctx.last_seq).toBe(messages.length);
        expect(ctx.version).toBe(messages.length);
        const bodies = messages.map((m) => m.parts[0]!.text);
        expect(new Set(bodies).size).toBe(bodies.length);
        const bySeq = new Map(messages.map((m) => [m.seq, m.parts[0]!.text]));
        for (const a of acked.filter((x) => x.id === id))
          expect(bySeq.get(a.seq), `${id}#${a.seq}`).toBe(a.body);
      }
    }
    expect(acked.length).toBeGreaterThan(100);
  }, 120_000);

  it('a retry that outlasts a restart and thousands of later appends on its context still replays', async () => {
    // A client whose append timed out retries after the failover; meanwhile a
    // busy context took far more appends than the newest 1,000 keys.
    let server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:4' } });
    servers.push(server);
    const { dataDir, port } = server;
    let api = jsonClient(server.url);
    await api.put('/v1/contexts/hot', { token_budget: 1_000_000 });
    const append = (body: string, key: string) =>
      api.post('/v1/contexts/hot/messages', { message: text(body) }, { 'idempotency-key': key });
    const first = await append('slow client', 'slow-key');
    expect(first.status).toBe(201);
    const later = 2_500;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < later; i += 8) expect((await append(`m${i}`, `k${i}`)).status).toBe(201);
    });
    await Promise.all(writers);
    await server.kill();
    server = await startServerProcess({ dataDir, port, env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:4' } });
    servers.push(server);
    api = jsonClient(server.url);

    const retry = await append('slow client', 'slow-key');
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ seq: first.body.seq, version: first.body.version });
    const messages = await readAll(api, 'hot');
    expect(messages).toHaveLength(later + 1);
    expect(messages.filter((m) => m.parts[0]!.text === 'slow client')).toHaveLength(1);
  }, 120_000);
});
