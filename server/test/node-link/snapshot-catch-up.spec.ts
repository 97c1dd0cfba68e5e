import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeLinkMetrics } from '../../src/node-link/metrics.js';
import { NodeLink } from '../../src/node-link/node-link.js';
import { validateRaftConfig, type WireMessage } from '../../src/raft/index.js';
import { RaftHost } from '../../src/replication/host/raft-host.js';
import type { GroupStateMachine } from '../../src/replication/host/state-machine.js';
import { WalRaftStorage } from '../../src/replication/storage/wal-storage.js';
import { freePort } from '../../src/testing/server-process.js';
import { crc32 } from '../../src/util/checksum.js';

/** Keeps every applied payload; its snapshot is all of them (so it grows with what was written). */
class BlobMachine implements GroupStateMachine {
  parts: Uint8Array[] = [];
  apply(data: Uint8Array): unknown {
    this.parts.push(data);
    return this.parts.length;
  }
  snapshot(): Uint8Array {
    const total = this.parts.reduce((n, p) => n + 4 + p.length, 0);
    const out = Buffer.alloc(total);
    let at = 0;
    for (const p of this.parts) {
      out.writeUInt32LE(p.length, at);
      out.set(p, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  restore(data: Uint8Array): void {
    const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.parts = [];
    for (let at = 0; at < b.length; ) {
      const n = b.readUInt32LE(at);
      this.parts.push(b.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
  }
  checksum(): number {
    return crc32(this.snapshot());
  }
}

const GROUPS = [0, 1, 2, 3, 4];
const ids = ['n1', 'n2', 'n3'];
const logger = pino({ level: 'silent' });

interface Running {
  host: RaftHost;
  transport: NodeLink;
  server: Server;
  registry: Registry;
  storage: WalRaftStorage;
  machines: BlobMachine[];
}

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Five groups catch up on one node at once, each through a 16 MiB snapshot,
 * over the real node link: the chunks of one turn no longer make one frame
 * larger than the receiver accepts (which reset the connection, and every
 * resend reset it again), so the node catches up without a protocol error.
 */
describe('node link – snapshots of several groups at once', () => {
  const dirs = ids.map((id) => mkdtempSync(join(tmpdir(), `fastpaca-catchup-${id}-`)));
  const ports: number[] = [];
  const running = new Map<string, Running>();
  afterAll(async () => {
    for (const r of running.values()) {
      await r.host.stop({ snapshot: false });
      await close(r);
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function start(i: number): Promise<Running> {
    const id = ids[i]!;
    const storage = await WalRaftStorage.open(dirs[i]!);
    const machines = GROUPS.map(() => new BlobMachine());
    let host: RaftHost | undefined;
    const registry = new Registry();
    const transport = new NodeLink({
      secret: 'snapshot catch-up secret',
      identity: () => ({ node: id, cluster: 'test', address: `127.0.0.1:${ports[i]}` }),
      admit: () => undefined,
      onMessages: (_peer, msgs) => host?.receive(msgs as WireMessage[]),
      metrics: new NodeLinkMetrics(registry),
      reconnect_delay_min_ms: 10,
      reconnect_delay_max_ms: 200,
    });
    const server = createServer();
    server.on('upgrade', (req, socket, head) => transport.handleUpgrade(req, socket, head));
    await new Promise<void>((r) => server.listen(ports[i], '127.0.0.1', () => r()));
    host = new RaftHost({
      nodeId: id,
      storage,
      config: validateRaftConfig({ election_ticks: 10, heartbeat_ticks: 2, compaction_keep_entries: 0 }),
      tick_ms: 20,
      snapshot_entries: 6,
      bootstrap: GROUPS,
      initialVoters: () => ids,
      machine: (g) => machines[g]!,
      sender: transport,
      proposal_timeout_ms: 20_000,
      logger,
    });
    for (const [j, peer] of ids.entries()) transport.setPeer(peer, `127.0.0.1:${ports[j]}`);
    await host.start();
    const r = { host, transport, server, registry, storage, machines };
    running.set(id, r);
    return r;
  }

  async function stop(i: number): Promise<void> {
    const r = running.get(ids[i]!)!;
    running.delete(ids[i]!);
    await r.host.stop({ snapshot: false });
    await close(r);
  }

  async function close(r: Running): Promise<void> {
    r.transport.close();
    r.server.closeAllConnections();
    await new Promise<void>((done) => r.server.close(() => done()));
    await r.storage.close();
  }

  it('node link – a node catches up five groups through 16 MiB snapshots at once, with no protocol error', async () => {
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    for (let i = 0; i < 3; i++) await start(i);
    const leader = (g: number) => [...running.values()].find((r) => r.host.isLeader(g));
    await until(() => GROUPS.every((g) => leader(g) !== undefined), 'leaders');
    // One node leads every group, so all five transfers leave it in the same turns.
    const first = running.get('n1')!;
    await until(() => {
      for (const g of GROUPS) {
        const l = leader(g);
        if (l && l !== first) {
          try {
            l.host.transferLeadership(g, 'n1');
          } catch {}
        }
      }
      return GROUPS.every((g) => first.host.isLeader(g));
    }, 'n1 to lead every group');
    await stop(2);

    // 24 entries of ~700 KiB per group: ~16 MiB of state each, compacted on the nodes that stay.
    const payload = (g: number, n: number) => new Uint8Array(700 * 1024).fill((g * 31 + n) % 251);
    for (let n = 0; n < 24; n++) {
      await Promise.all(
        GROUPS.map(async (g) => {
          for (;;) {
            const l = leader(g);
            if (l) {
              try {
                await l.host.propose(g, payload(g, n));
                return;
              } catch {}
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        }),
      );
    }
    const target = GROUPS.map((g) => leader(g)!.machines[g]!.checksum());
    expect(GROUPS.every((g) => (leader(g)!.host.status(g)?.snapshot_index ?? 0) > 2)).toBe(true);

    const back = await start(2);
    await until(
      () => GROUPS.every((g) => back.machines[g]!.parts.length === 24),
      'the restarted node to catch up every group',
      90_000,
    );
    expect(GROUPS.map((g) => back.machines[g]!.checksum())).toEqual(target);
    for (const r of running.values()) {
      const errors = await r.registry.getSingleMetric('fastpaca_node_link_errors_total')!.get();
      expect(errors.values.filter((v) => v.labels.reason === 'protocol')).toEqual([]);
    }
  }, 180_000);
});
