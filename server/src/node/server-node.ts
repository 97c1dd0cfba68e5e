import { join } from 'node:path';
import type { Logger } from 'pino';
import { PgArchiveStore } from '../archive/archive-store.js';
import { Archiver } from '../archive/archiver.js';
import type { AckArchivedValue, Applied } from '../context/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { validateRaftConfig } from '../raft/index.js';
import { RaftHost } from '../replication/host/raft-host.js';
import { RaftMetrics } from '../replication/metrics.js';
import type { RaftStorage } from '../replication/storage/raft-storage.js';
import { WalRaftStorage } from '../replication/storage/wal-storage.js';
import { StreamHub } from '../stream/stream-hub.js';
import { ContextMachine, encodeCommand } from './context-machine.js';
import { ContextStore } from './context-store.js';
import { GROUP_COUNT, groupOf } from './group-router.js';
import { TokenCounter } from './token-counter.js';

export interface ServerNodeOptions {
  nodeName: string;
  dataDir: string;
  tokenEstimator: string;
  logger: Logger;
  metrics: Metrics;
  raft: { tick_ms: number; election_ticks: number; heartbeat_ticks: number; snapshot_entries: number };
  stream: {
    replay_versions: number;
    replay_frames_max: number;
    replay_bytes_max: number;
    buffer_bytes_max: number;
    ping_interval_ms: number;
    pong_timeout_ms: number;
  };
  proposal_timeout_ms: number;
  /** The Postgres archive; without it every message stays in memory and in snapshots. */
  archive?: {
    database_url: string;
    migrate: boolean;
    flush_interval_ms: number;
    batch_size: number;
    tail_keep: number;
  };
}

/**
 * Everything one node runs besides HTTP: 256 context state machines behind
 * 256 Raft groups on one storage engine, the stream hub fed by what they
 * apply, and the token counter. A single node is a cluster of one: every group
 * has this node as its only voter, and the write path is the same.
 */
export class ServerNode {
  private constructor(
    readonly service: ContextStore,
    readonly hub: StreamHub,
    readonly host: RaftHost,
    private readonly storage: RaftStorage,
    private readonly tokens: TokenCounter,
    private readonly archive: { store: PgArchiveStore; archiver: Archiver } | undefined,
  ) {}

  static async start(o: ServerNodeOptions): Promise<ServerNode> {
    const tokens = await TokenCounter.create(o.tokenEstimator, {
      onOffload: () => o.metrics.tokenCountOffloaded.inc(),
    });
    const machines: ContextMachine[] = [];
    const statusOf = (id: string) => {
      const view = machines[groupOf(id)]?.contexts.getContext(id);
      return view ? { version: view.version, tombstoned: view.status === 'tombstoned' } : undefined;
    };
    const hub = new StreamHub({
      replay_versions_per_context_max: o.stream.replay_versions,
      replay_frames_total_max: o.stream.replay_frames_max,
      replay_bytes_total_max: o.stream.replay_bytes_max,
      send_buffer_bytes_max: o.stream.buffer_bytes_max,
      ping_interval_ms: o.stream.ping_interval_ms,
      pong_timeout_ms: o.stream.pong_timeout_ms,
      now: Date.now,
      statusOf,
      onFramesSent: (n) => o.metrics.streamFramesSent.inc(n),
      onClosed: (reason) => o.metrics.streamClosed.inc({ reason }),
    });
    for (let g = 0; g < GROUP_COUNT; g++) {
      machines.push(
        new ContextMachine(
          g,
          (contextId, frames) => hub.publish(contextId, frames),
          (group, previous) => {
            const ids = new Set([...previous.contextIds(), ...machines[group]!.contexts.contextIds()]);
            for (const id of ids) hub.reset(id);
          },
        ),
      );
    }
    const storage = await WalRaftStorage.open(join(o.dataDir, 'raft'));
    const groups = machines.map((m) => m.group);
    const host: RaftHost = new RaftHost({
      nodeId: o.nodeName,
      storage,
      config: validateRaftConfig({
        election_ticks: o.raft.election_ticks,
        heartbeat_ticks: o.raft.heartbeat_ticks,
      }),
      tick_ms: o.raft.tick_ms,
      snapshot_entries: o.raft.snapshot_entries,
      bootstrap: groups,
      initialVoters: () => [o.nodeName],
      machine: (g) => machines[g]!,
      proposal_timeout_ms: o.proposal_timeout_ms,
      logger: o.logger,
      metrics: new RaftMetrics(o.metrics.registry, {
        logEntries: () => {
          let n = 0;
          for (const g of groups) {
            const s = host.status(g);
            if (s) n += s.last_index - s.snapshot_index;
          }
          return n;
        },
        groupsLed: () => groups.filter((g) => host.isLeader(g)).length,
        groups: () => groups.length,
      }),
    });
    await host.start();
    const archive = o.archive && startArchive(o.archive, o, host, machines);
    const service = new ContextStore({
      replicator: host,
      contexts: (g) => machines[g]!.contexts,
      tokens,
      metrics: o.metrics,
      ...(archive && { archive: archive.store }),
    });
    return new ServerNode(service, hub, host, storage, tokens, archive);
  }

  /** Linearizable point for a context's group, used before a stream replays. */
  readBarrier(contextId: string): Promise<void> {
    return this.host.readBarrier(groupOf(contextId));
  }

  async stop(): Promise<void> {
    await this.archive?.archiver.stop();
    await this.host.stop();
    await this.storage.close();
    await this.tokens.close();
    await this.archive?.store.close();
  }
}

function startArchive(
  a: NonNullable<ServerNodeOptions['archive']>,
  o: ServerNodeOptions,
  host: RaftHost,
  machines: readonly ContextMachine[],
): { store: PgArchiveStore; archiver: Archiver } {
  const store = PgArchiveStore.create(a.database_url, {
    migrate: a.migrate,
    onError: (err) => o.logger.warn({ type: 'archive_connection_error', err }, 'archive connection lost'),
  });
  const archiver = new Archiver({
    store,
    groups: machines.map((m) => m.group),
    isLeader: (g) => host.isLeader(g),
    contexts: (g) => machines[g]!.contexts,
    propose: async (g, command) =>
      (await host.propose(g, encodeCommand(command))) as Applied<AckArchivedValue>,
    flush_interval_ms: a.flush_interval_ms,
    batch_size: a.batch_size,
    tail_keep: a.tail_keep,
    metrics: o.metrics,
    logger: o.logger,
  });
  // Migrate at boot when enabled; if Postgres is down, the first flush that reaches it migrates.
  store
    .ready()
    .catch((err: Error) =>
      o.logger.warn(
        { type: 'archive_migration_deferred', err },
        `archive migrations deferred: ${err.message}`,
      ),
    );
  archiver.start();
  return { store, archiver };
}
