import { type Message, type StreamServerFrame, streamCloseCodes } from '@fastpaca/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from '../http/client.js';
import { RecordingSubscriber } from './recording-subscriber.js';
import { openStream, sleep } from './stream-client.js';

const servers: ServerProcess[] = [];
afterEach(async () => {
  // Every process first: a restarted node shares its data directory with the one before it.
  const stopped = servers.splice(0);
  for (const s of stopped) await s.kill();
  for (const s of stopped) s.cleanup();
});

async function start(env: Record<string, string>, dataDir?: string): Promise<ServerProcess> {
  const server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1', ...env }, dataDir });
  servers.push(server);
  return server;
}

async function appendMany(server: ServerProcess, id: string, count: number, label: string): Promise<number> {
  const api = jsonClient(server.url);
  let version = 0;
  for (let i = 0; i < count; i++) {
    const res = await api.post(`/v1/contexts/${id}/messages`, { message: text(`${label} ${i}`) });
    expect(res.status).toBe(201);
    version = res.body.version;
  }
  return version;
}

async function allMessages(server: ServerProcess, id: string, afterSeq = 0): Promise<Message[]> {
  const api = jsonClient(server.url);
  const out: Message[] = [];
  let after = afterSeq;
  for (let page = 0; page < 100; page++) {
    const res = await api.get(`/v1/contexts/${id}/messages?after_seq=${after}&limit=100`);
    expect(res.status).toBe(200);
    if (res.body.messages.length === 0) return out;
    out.push(...res.body.messages);
    after = out.at(-1)!.seq;
  }
  throw new Error('too many pages');
}

const messagesOf = (frames: StreamServerFrame[]): Message[] =>
  frames.flatMap((f) => (f.type === 'message' ? [f.message] : []));

const dense = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('stream restart – cursors after the replay buffer was lost', () => {
  it('an old cursor gets gap; /messages then a reconnect at the current version loses nothing', async () => {
    // A snapshot after every entry: a restarted node restores state without re-applying history,
    // so its replay buffer is empty.
    const env = { FASTPACA_RAFT_SNAPSHOT_ENTRIES: '1' };
    const first = await start(env);
    expect((await jsonClient(first.url).put('/v1/contexts/r', { token_budget: 100_000 })).status).toBe(200);
    const sub = new RecordingSubscriber(first.url, 'r', 0);
    await sub.connect(true);
    const seen = await appendMany(first, 'r', 5, 'before');
    await sub.catchUp(seen, true);
    await sub.disconnect(false);
    // Appended while the subscriber is away, then the node restarts.
    const beforeStop = await appendMany(first, 'r', 3, 'away');
    expect(await first.stop()).toBe(0);

    const second = await start(env, first.dataDir);
    const gapped = await openStream(second.url, 'r', { cursor: sub.version });
    const close = await gapped.closedWithin();
    expect(gapped.invalid).toEqual([]);
    expect(close.code).toBe(streamCloseCodes.gap);
    expect(gapped.frames).toHaveLength(1);
    const gap = gapped.frames[0]!;
    if (gap.type !== 'gap') throw new Error(`expected gap, got ${JSON.stringify(gap)}`);
    expect(gap.version).toBe(beforeStop);
    expect(gap.expected).toBe(seen + 1);
    expect(gap.actual).toBeGreaterThan(gap.expected);

    // Recovery runs while a writer keeps appending: nothing may be lost in between.
    const writer = appendMany(second, 'r', 20, 'during');
    const lastSeq = messagesOf(sub.sessions.flatMap((s) => s.frames)).at(-1)!.seq;
    const fetched = await allMessages(second, 'r', lastSeq);
    const resumed = new RecordingSubscriber(second.url, 'r', gap.version);
    await resumed.connect(true);
    const finalVersion = await writer;
    await resumed.catchUp(finalVersion, true);
    await resumed.disconnect(false);

    const groups = resumed.groups();
    expect(groups.map((g) => g.version)).toEqual(dense(gap.version + 1, finalVersion));
    const streamed = [
      ...messagesOf(sub.sessions.flatMap((s) => s.frames)),
      ...messagesOf(groups.flatMap((g) => g.frames)),
    ];
    const bySeq = new Map<number, Message>();
    for (const m of [...streamed, ...fetched]) {
      const known = bySeq.get(m.seq);
      if (known) expect(m).toEqual(known);
      bySeq.set(m.seq, m);
    }
    const everything = await allMessages(second, 'r');
    expect(everything).toHaveLength(28);
    expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(dense(1, 28));
    expect(everything.map((m) => bySeq.get(m.seq))).toEqual(everything);
  });

  it('a cursor inside the re-applied log tail is replayed exactly as before the restart', async () => {
    const first = await start({});
    expect((await jsonClient(first.url).put('/v1/contexts/k', { token_budget: 100_000 })).status).toBe(200);
    const witness = new RecordingSubscriber(first.url, 'k', 0);
    await witness.connect(true);
    const version = await appendMany(first, 'k', 8, 'kept');
    await witness.catchUp(version, true);
    await witness.disconnect(false);
    await first.kill();

    const second = await start({}, first.dataDir);
    const again = new RecordingSubscriber(second.url, 'k', 3);
    await again.connect(true);
    await again.catchUp(version, true);
    await appendMany(second, 'k', 1, 'after');
    await again.catchUp(version + 1, true);
    await sleep(50);
    await again.disconnect(false);
    const before = witness.groups().filter((g) => g.version > 3);
    const after = again.groups();
    expect(after.map((g) => g.version)).toEqual(dense(4, version + 1));
    expect(after.slice(0, before.length)).toEqual(before);
    expect(again.sessions[0]!.frames.some((f) => f.type === 'gap' || f.type === 'reset')).toBe(false);
  });
});

describe('stream shutdown – going away', () => {
  it('a graceful stop closes live subscribers with 1001 going away, not 1005', async () => {
    const server = await start({});
    expect((await jsonClient(server.url).put('/v1/contexts/g', { token_budget: 1_000 })).status).toBe(200);
    const watcher = await openStream(server.url, 'g');
    expect(await server.stop()).toBe(0);
    const closed = await watcher.closedWithin();
    expect(closed.code).toBe(streamCloseCodes.going_away);
    expect(closed.reason).toMatch(/shutting down/);
  });
});
