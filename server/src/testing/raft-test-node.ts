#!/usr/bin/env node
/**
 * A Raft node without the context domain, for the consensus layer's real-process
 * tests and benchmark: the production RaftHost, WAL storage and node link,
 * with a state machine that records every applied entry, behind a small HTTP
 * control API. Configured by env:
 *
 *   RAFT_NODE_ID, RAFT_DATA_DIR, RAFT_HTTP_PORT (also the node link's port),
 *   RAFT_PEERS=id=host:port,...   (every member, this node included)
 *   RAFT_GROUPS=N (default 4), RAFT_TICK_MS, RAFT_ELECTION_TICKS, RAFT_SNAPSHOT_ENTRIES
 *
 * Routes: POST /propose?group=g (body = entry text) → 201 {index} once applied
 * here; 503 {leader} when this node does not lead the group. POST /noop → 201
 * without consensus (a baseline). GET /applied?group=g → {entries: string[]}
 * (or {count, checksum} with RAFT_MACHINE=count). GET /status → {leaders, ready}.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Packr } from 'msgpackr';
import pino from 'pino';
import { NodeLink } from '../node-link/node-link.js';
import { validateRaftConfig, type WireMessage } from '../raft/index.js';
import { ReplicationError } from '../replication/errors.js';
import { RaftHost } from '../replication/host/raft-host.js';
import type { GroupStateMachine } from '../replication/host/state-machine.js';
import { WalRaftStorage } from '../replication/storage/wal-storage.js';

const packr = new Packr({ useRecords: false });
const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

/** For benchmarks: counts entries and folds them into a checksum instead of keeping them. */
class CountingMachine implements GroupStateMachine {
  count = 0;
  checksum = 0;
  apply(data: Uint8Array): unknown {
    this.count++;
    for (let i = 0; i < data.length; i++) this.checksum = (Math.imul(this.checksum, 31) + data[i]!) >>> 0;
    return this.count;
  }
  snapshot(): Uint8Array {
    return packr.pack([this.count, this.checksum]);
  }
  restore(data: Uint8Array): void {
    [this.count, this.checksum] = data.length === 0 ? [0, 0] : (packr.unpack(data) as [number, number]);
  }
}

class RecordingMachine implements GroupStateMachine {
  entries: string[] = [];
  apply(data: Uint8Array): unknown {
    this.entries.push(Buffer.from(data).toString('utf8'));
    return this.entries.length;
  }
  snapshot(): Uint8Array {
    return packr.pack(this.entries);
  }
  restore(data: Uint8Array): void {
    this.entries = data.length === 0 ? [] : (packr.unpack(data) as string[]);
  }
}

async function main(): Promise<void> {
  const id = env('RAFT_NODE_ID');
  const peers = new Map(
    env('RAFT_PEERS')
      .split(',')
      .map((p) => {
        const [name, addr] = p.split('=') as [string, string];
        return [name, addr] as const;
      }),
  );
  const groupCount = Number(env('RAFT_GROUPS', '4'));
  const groups = Array.from({ length: groupCount }, (_, i) => i);
  const counting = env('RAFT_MACHINE', 'record') === 'count';
  const machines = groups.map(() => (counting ? new CountingMachine() : new RecordingMachine()));
  const logger = pino({ level: env('RAFT_LOG_LEVEL', 'warn'), base: { node: id } });
  const storage = await WalRaftStorage.open(env('RAFT_DATA_DIR'), {
    segment_bytes_max: Number(env('RAFT_SEGMENT_BYTES', String(64 * 1024 * 1024))),
  });
  let host: RaftHost | undefined;
  const transport = new NodeLink({
    secret: 'raft test node secret',
    identity: () => ({ node: id, cluster: 'raft-test', address: peers.get(id)! }),
    admit: () => undefined,
    onMessages: (_peer, msgs) => host?.receive(msgs as WireMessage[]),
    logger,
  });
  host = new RaftHost({
    nodeId: id,
    storage,
    config: validateRaftConfig({
      election_ticks: Number(env('RAFT_ELECTION_TICKS', '10')),
      heartbeat_ticks: 2,
    }),
    tick_ms: Number(env('RAFT_TICK_MS', '20')),
    snapshot_entries: Number(env('RAFT_SNAPSHOT_ENTRIES', '1000')),
    bootstrap: groups,
    initialVoters: () => [...peers.keys()],
    machine: (g) => machines[g]!,
    sender: transport,
    proposal_timeout_ms: 3_000,
    logger,
  });
  for (const [peer, address] of peers) transport.setPeer(peer, address);
  await host.start();

  const raft = host;
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const group = Number(url.searchParams.get('group') ?? '0');
    if (req.method === 'POST' && url.pathname === '/propose') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!raft.isLeader(group)) return reply(res, 503, { leader: raft.leaderOf(group) });
        raft.propose(group, Buffer.concat(chunks)).then(
          (index) => reply(res, 201, { index }),
          (error: Error) =>
            reply(res, error instanceof ReplicationError ? (error.kind === 'overloaded' ? 429 : 503) : 500, {
              error: error.message,
              leader: raft.leaderOf(group),
            }),
        );
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/noop') {
      // The same HTTP path as /propose without consensus: the benchmark's ceiling.
      req.resume();
      req.on('end', () => reply(res, 201, { index: 0 }));
      return;
    }
    if (url.pathname === '/applied') {
      const m = machines[group]!;
      return reply(
        res,
        200,
        m instanceof RecordingMachine ? { entries: m.entries } : { count: m.count, checksum: m.checksum },
      );
    }
    if (url.pathname === '/status') {
      return reply(res, 200, {
        id,
        ready: raft.notReadyReason() === undefined,
        leaders: groups.map((g) => raft.leaderOf(g)),
        applied: groups.map((g) => raft.status(g)?.applied ?? 0),
      });
    }
    reply(res, 404, {});
  });
  server.on('upgrade', (req, socket, head) => {
    if (NodeLink.isLinkRequest(req)) transport.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  server.listen(Number(env('RAFT_HTTP_PORT')), '127.0.0.1');
  const stop = async () => {
    server.close();
    await raft.stop();
    transport.close();
    await storage.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

void main();
