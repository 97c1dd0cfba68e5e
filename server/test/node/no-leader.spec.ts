import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/**
 * A group whose second voter never answers can never elect a leader: every
 * write and linearizable read must fail fast with 503 + Retry-After, and the
 * node must report not ready.
 */
describe('node – no leader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-noleader-'));
  let storage: WalRaftStorage;
  const logger = pino({ level: 'silent' });
  const machines = [new ContextMachine(0, () => {})];
  let host: RaftHost;
  const makeHost = () =>
    new RaftHost({
      nodeId: 'me',
      storage,
      config: validateRaftConfig({ election_ticks: 5, heartbeat_ticks: 1 }),
      tick_ms: 5,
      snapshot_entries: 1000,
      bootstrap: [0],
      initialVoters: () => ['me', 'ghost'],
      machine: (g) => machines[g]!,
      sender: { send: () => false },
      proposal_timeout_ms: 500,
      logger,
    });
  let app: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    storage = await WalRaftStorage.open(dir);
    host = makeHost();
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
    app = await buildApp({
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
    await new Promise((r) => setTimeout(r, 200));
  });

  afterAll(async () => {
    await app.close();
    await host.stop();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes get 503 unavailable with Retry-After', async () => {
    const res = await app.inject({ method: 'PUT', url: '/v1/contexts/x', payload: { token_budget: 10 } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ error: 'unavailable' });
    expect(res.json().message).toContain('no leader');
  });

  it('linearizable reads get 503 too, never stale data', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/contexts/x' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('readiness says why', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toContain('1 of 1 groups have no leader');
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  });
});
