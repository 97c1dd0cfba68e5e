import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { DrainResponse } from '@fastpaca/contract';
import type { Logger } from 'pino';
import { PgArchiveStore } from '../archive/archive-store.js';
import { Archiver } from '../archive/archiver.js';
import type { AckArchivedValue, Applied } from '../context/index.js';
import { AppError } from '../errors/app-error.js';
import { ForwardingExecutor } from '../forwarding/forwarding-executor.js';
import { forwardingHandlers } from '../forwarding/forwarding-handlers.js';
import { ForwardingMetrics } from '../forwarding/metrics.js';
import {
  RoutedStreamSource,
  STREAM_CHANNEL,
  StreamRelayClient,
  StreamRelayServer,
} from '../forwarding/stream-relay.js';
import { buildClusterView } from '../membership/cluster-view.js';
import { ClusterMembership } from '../membership/membership.js';
import type { Metrics } from '../metrics/metrics.js';
import { NodeLink } from '../node-link/node-link.js';
import { CONTEXT_GROUPS, groupOf, META_GROUP } from '../placement/groups.js';
import { DEFAULT_RAFT_CONFIG, validateRaftConfig } from '../raft/index.js';
import { RaftHost } from '../replication/host/raft-host.js';
import { RaftMetrics } from '../replication/metrics.js';
import { WalRaftStorage } from '../replication/storage/wal-storage.js';
import { StreamHub } from '../stream/stream-hub.js';
import { LocalStreamSource, type StreamSource } from '../stream/stream-source.js';
import { systemRuntime } from '../util/runtime.js';
import type { ClusterApi } from './cluster-api.js';
import { LocalExecutor } from './context-executor.js';
import { encodeCommand } from './context-machine.js';
import { ContextMachines } from './context-machines.js';
import { ContextStore } from './context-store.js';
import type { NodeIdentity } from './node-identity.js';
import type { PlantedBugs } from './planted-bugs.js';
import { TokenCounter } from './token-counter.js';

export interface ServerNodeOptions {
  identity: NodeIdentity;
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
  /** Test-only: bugs this process runs with (`planted-bugs.ts`); none unless given. */
  planted?: PlantedBugs;
  /** Set for a cluster node; a single node is a cluster of one without a link. */
  cluster?: {
    seeds: readonly string[];
    secret: string;
    /** host:port the other nodes reach this one on. */
    advertise: string;
    form_nodes: number;
    down_after_ms: number;
  };
}

/**
 * One server process besides HTTP: the context state machines behind their
 * Raft groups on one storage engine, the stream hub fed by what they apply,
 * the token counter and, on a cluster node, its membership, forwarding and
 * stream relays. A single node is a cluster of one: every group has this node
 * as its only voter, and the write path is the same.
 */
export class ServerNode {
  private constructor(
    readonly service: ContextStore,
    readonly hub: StreamHub,
    readonly streams: StreamSource,
    readonly cluster: ClusterApi,
    readonly host: RaftHost,
    /** Takes over node link upgrades (cluster nodes only). */
    readonly nodeLink: ((req: IncomingMessage, socket: Duplex, head: Buffer) => boolean) | undefined,
    private readonly stops: (() => Promise<void> | void)[],
  ) {}

  static async start(o: ServerNodeOptions): Promise<ServerNode> {
    const stops: (() => Promise<void> | void)[] = [];
    const tokens = await TokenCounter.create(o.tokenEstimator, {
      onOffload: () => o.metrics.tokenCountOffloaded.inc(),
    });
    let machines: ContextMachines | undefined;
    const hub = new StreamHub({
      replay_versions_per_context_max: o.stream.replay_versions,
      replay_frames_total_max: o.stream.replay_frames_max,
      replay_bytes_total_max: o.stream.replay_bytes_max,
      send_buffer_bytes_max: o.stream.buffer_bytes_max,
      ping_interval_ms: o.stream.ping_interval_ms,
      pong_timeout_ms: o.stream.pong_timeout_ms,
      now: Date.now,
      statusOf: (id) => machines?.statusOf(id),
      onFramesSent: (n) => o.metrics.streamFramesSent.inc(n),
      onClosed: (reason) => o.metrics.streamClosed.inc({ reason }),
    });
    machines = new ContextMachines(hub);
    const contexts = machines;
    const storage = await WalRaftStorage.open(join(o.dataDir, 'raft'));
    stops.push(() => storage.close());
    const self = o.identity.id;

    const membership = o.cluster && ServerNode.membership(o, o.cluster, contexts);
    const founding = membership?.pendingFounding();
    const host: RaftHost = new RaftHost({
      nodeId: self,
      storage,
      config: validateRaftConfig({
        election_ticks: o.raft.election_ticks,
        heartbeat_ticks: o.raft.heartbeat_ticks,
      }),
      tick_ms: o.raft.tick_ms,
      snapshot_entries: o.raft.snapshot_entries,
      bootstrap: membership ? (founding?.groups ?? []) : CONTEXT_GROUPS,
      initialVoters: (g) => (founding ? (founding.confs.get(g)?.voters ?? []) : [self]),
      initialLearners: (g) => founding?.confs.get(g)?.learners ?? [],
      machine: (g) => (g === META_GROUP && membership ? membership.machine : contexts.get(g)),
      ...(membership && { sender: membership.link }),
      onLeaderChange: () => membership?.leaderChanged(),
      proposal_timeout_ms: o.proposal_timeout_ms,
      ...(o.planted && { bugs: o.planted.raft }),
      logger: o.logger,
      metrics: new RaftMetrics(o.metrics.registry, {
        logEntries: () => {
          let n = 0;
          for (const g of host.groups()) {
            const s = host.status(g);
            if (s) n += s.last_index - s.snapshot_index;
          }
          return n;
        },
        groupsLed: () => CONTEXT_GROUPS.filter((g) => host.isLeader(g)).length,
        groups: () => host.groups().filter((g) => g !== META_GROUP).length,
      }),
    });
    await host.start();
    stops.unshift(() => host.stop());

    const local = new LocalExecutor(
      host,
      (g) => (host.hosts(g) ? contexts.contexts(g) : undefined),
      o.planted?.stale_follower_reads === true,
    );
    const barrier = (id: string) => host.readBarrier(groupOf(id));
    const localStreams = new LocalStreamSource(hub, barrier);
    let executor: LocalExecutor | ForwardingExecutor = local;
    let streams: StreamSource = localStreams;
    let cluster: ClusterApi = singleNodeApi(o.identity, host);
    let nodeLink: ServerNode['nodeLink'];
    if (membership) {
      const forwardingMetrics = new ForwardingMetrics(o.metrics.registry);
      for (const [method, handler] of Object.entries(forwardingHandlers(local, host, forwardingMetrics))) {
        membership.rpc.register(method, handler);
      }
      const relays = ServerNode.relays(membership, hub, barrier, o.proposal_timeout_ms);
      executor = new ForwardingExecutor({
        local,
        host,
        routing: membership,
        runtime: systemRuntime,
        timeout_ms: o.proposal_timeout_ms,
        metrics: forwardingMetrics,
        ...(o.planted && { planted: o.planted }),
      });
      streams = new RoutedStreamSource(localStreams, relays.client, (id) => {
        const s = host.hosts(groupOf(id)) ? host.status(groupOf(id)) : undefined;
        return s?.conf.voters.includes(s.id) === true;
      });
      cluster = {
        view: async () => membership.view(),
        drain: async (name): Promise<DrainResponse> => {
          const member = await membership.drain(name);
          return { node: member.name, state: member.state };
        },
      };
      nodeLink = (req, socket, head) => {
        if (!NodeLink.isLinkRequest(req)) return false;
        membership.link.handleUpgrade(req, socket, head);
        return true;
      };
      membership.start(host);
      stops.unshift(() => membership.stop());
    }

    const archive = o.archive && startArchive(o.archive, o, host, contexts);
    if (archive) {
      stops.unshift(async () => {
        await archive.archiver.stop();
      });
      stops.push(() => archive.store.close());
    }
    stops.push(() => tokens.close());
    const service = new ContextStore({
      executor,
      notReadyReason: () => {
        const failure = host.failure();
        if (failure) return `storage failed: ${failure.message}`;
        return membership ? membership.notReadyReason() : host.notReadyReason();
      },
      failure: () => host.failure(),
      tokens,
      metrics: o.metrics,
      ...(archive && { archive: archive.store }),
    });
    return new ServerNode(service, hub, streams, cluster, host, nodeLink, stops);
  }

  private static membership(
    o: ServerNodeOptions,
    c: NonNullable<ServerNodeOptions['cluster']>,
    contexts: ContextMachines,
  ): ClusterMembership {
    return new ClusterMembership({
      self: { name: o.identity.name, id: o.identity.id },
      dataDir: o.dataDir,
      advertise: c.advertise,
      seeds: c.seeds,
      secret: c.secret,
      form_nodes: c.form_nodes,
      down_after_ms: c.down_after_ms,
      promote_lag_entries: DEFAULT_RAFT_CONFIG.max_promote_lag_entries,
      onReplicaDestroyed: (g) => contexts.drop(g),
      logger: o.logger,
      registry: o.metrics.registry,
      request_timeout_ms: Math.min(5_000, o.proposal_timeout_ms),
    });
  }

  private static relays(
    membership: ClusterMembership,
    hub: StreamHub,
    barrier: (id: string) => Promise<void>,
    timeoutMs: number,
  ): { client: StreamRelayClient; server: StreamRelayServer } {
    const client = new StreamRelayClient(
      membership.link,
      (id) => membership.voterNodesOf(groupOf(id)).find((n) => n !== membership.self && membership.isUp(n)),
      (node, method, body, ms) => membership.call(node, method, body, ms),
      timeoutMs,
    );
    const server = new StreamRelayServer(hub, membership.link, barrier);
    for (const [method, handler] of Object.entries(server.handlers()))
      membership.rpc.register(method, handler);
    membership.onChannel(STREAM_CHANNEL, (from, m) => {
      client.receive(from, m);
      server.receive(from, m);
    });
    membership.onPeerLost((node) => {
      client.peerLost(node);
      server.peerLost(node);
    });
    return { client, server };
  }

  async stop(): Promise<void> {
    for (const stop of this.stops) await stop();
  }
}

/** A single node's cluster routes: itself, every group on it; nothing to drain. */
function singleNodeApi(identity: NodeIdentity, host: RaftHost): ClusterApi {
  return {
    view: async () =>
      buildClusterView({
        mode: 'single',
        clusterId: null,
        self: { id: identity.id, name: identity.name, address: '' },
        members: [{ id: identity.id, name: identity.name, address: '', state: 'active' }],
        isUp: () => true,
        group: (g) => {
          const s = host.status(g);
          return s && { conf: s.conf, leader: host.leaderOf(g) };
        },
      }),
    drain: async () => {
      throw new AppError(
        'conflict',
        'a single node cannot be drained: there is no other node to move its data to',
      );
    },
  };
}

function startArchive(
  a: NonNullable<ServerNodeOptions['archive']>,
  o: ServerNodeOptions,
  host: RaftHost,
  contexts: ContextMachines,
): { store: PgArchiveStore; archiver: Archiver } {
  const store = PgArchiveStore.create(a.database_url, {
    migrate: a.migrate,
    onError: (err) => o.logger.warn({ type: 'archive_connection_error', err }, 'archive connection lost'),
  });
  const archiver = new Archiver({
    store,
    groups: CONTEXT_GROUPS,
    isLeader: (g) => host.isLeader(g),
    contexts: (g) => contexts.contexts(g),
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
