import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { LocalExecutor } from '../../src/node/context-executor.js';
import { ContextMachine } from '../../src/node/context-machine.js';
import { ContextStore } from '../../src/node/context-store.js';
import { TokenCounter } from '../../src/node/token-counter.js';
import { validateRaftConfig } from '../../src/raft/index.js';
import { RaftHost } from '../../src/replication/host/raft-host.js';
import { WalRaftStorage } from '../../src/replication/storage/wal-storage.js';
import { StreamHub } from '../../src/stream/stream-hub.js';
import { LocalStreamSource } from '../../src/stream/stream-source.js';
import { FaultyFs } from '../replication/storage/faulty-fs.js';

/**
 * The disk fills up under load (a write lands part of a frame, then fails
 * with ENOSPC): the node answers 503 and stays up, reports itself neither
 * ready nor live, writes nothing more on top of the failed write, and after a
 * restart on the same data (space freed) every acknowledged append is there.
 */
describe('node – storage failure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-storagefail-'));
  const logger = pino({ level: 'silent' });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(fs?: FaultyFs) {
    const storage = await WalRaftStorage.open(dir, fs ? { fs } : {});
    const machines = [new ContextMachine(0, () => {})];
    const host = new RaftHost({
      nodeId: 'me',
      storage,
      config: validateRaftConfig({ election_ticks: 5, heartbeat_ticks: 1 }),
      tick_ms: 5,
      snapshot_entries: 1000,
      bootstrap: [0],
      initialVoters: () => ['me'],
      machine: (g) => machines[g]!,
      proposal_timeout_ms: 2_000,
      logger,
    });
    await host.start();
    const metrics = new Metrics({ nodeName: 'me', defaultMetrics: false });
    const service = new ContextStore({
      executor: new LocalExecutor(host, (g) => machines[g]?.contexts),
      notReadyReason: () => host.notReadyReason(),
      failure: () => host.failure(),
      tokens: await TokenCounter.create('chars:4'),
      metrics,
      groups: 1,
    });
    const hub = new StreamHub({
      replay_versions_per_context_max: 10,
      replay_frames_total_max: 100,
      replay_bytes_total_max: 1_000_000,
      send_buffer_bytes_max: 1024,
      ping_interval_ms: 1000,
      pong_timeout_ms: 3000,
      now: Date.now,
      statusOf: () => undefined,
    });
    const app = await buildApp({
      logger,
      metrics,
      service,
      hub,
      streams: new LocalStreamSource(hub, async () => {}),
      cluster: {
        view: async () => Promise.reject(new Error('not here')),
        drain: async () => Promise.reject(new Error('not here')),
      },
      stream: { connections_max: 10, ping_interval_ms: 1000 },
    });
    for (let i = 0; i < 200 && !host.isLeader(0); i++) await new Promise((r) => setTimeout(r, 5));
    return { app, host, storage };
  }

  const append = (app: Awaited<ReturnType<typeof buildApp>>, text: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/contexts/c/messages',
      payload: { message: { role: 'user', parts: [{ type: 'text', text }] } },
    });

  it('storage failure – a full disk fails appends with 503 and liveness; a restart recovers every acknowledged append', async () => {
    const fs = new FaultyFs();
    const first = await start(fs);
    expect(
      (await first.app.inject({ method: 'PUT', url: '/v1/contexts/c', payload: { token_budget: 1000 } }))
        .statusCode,
    ).toBe(200);
    const acked: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const res = await append(first.app, `m${i}`);
      expect(res.statusCode).toBe(201);
      acked.push(res.json().seq);
    }
    fs.failNext = { code: 'ENOSPC', partial: 5 };
    const failed = await append(first.app, 'lost');
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toMatchObject({ error: 'unavailable', details: { outcome: 'unknown' } });
    expect(failed.json().message).toContain('ENOSPC');
    // The node stays up and says why it cannot serve, and that only a restart helps.
    const later = await append(first.app, 'refused');
    expect(later.statusCode).toBe(503);
    expect(later.json().message).toContain('storage failed');
    expect((await first.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
    const live = await first.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(503);
    expect(live.json().message).toContain('restart the node');
    await first.app.close();
    await first.host.stop();
    await first.storage.close();

    // Space freed, the node restarts on the same data: the torn frame is cut, nothing acknowledged is lost.
    const second = await start();
    const page = await second.app.inject({
      method: 'GET',
      url: '/v1/contexts/c/messages?after_seq=0&limit=100',
    });
    expect(page.statusCode).toBe(200);
    const texts = page.json().messages.map((m: { parts: { text: string }[] }) => m.parts[0]!.text);
    expect(texts.slice(0, 20)).toEqual(acked.map((_, i) => `m${i + 1}`));
    expect(texts).not.toContain('refused');
    const next = await append(second.app, 'after');
    expect(next.statusCode).toBe(201);
    expect(next.json().seq).toBe(texts.length + 1);
    await second.app.close();
    await second.host.stop();
    await second.storage.close();
  });
});
