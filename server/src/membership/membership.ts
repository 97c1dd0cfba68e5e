import { randomUUID } from 'node:crypto';
import type { ClusterView } from '@fastpaca/contract';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Hello } from '../node-link/handshake.js';
import { NodeLinkMetrics } from '../node-link/metrics.js';
import { NodeLink } from '../node-link/node-link.js';
import { isRpcMessage, Rpc, RpcError } from '../node-link/rpc.js';
import { META_GROUP } from '../placement/groups.js';
import type { GroupId, NodeId, WireMessage } from '../raft/index.js';
import type { RaftHost } from '../replication/host/raft-host.js';
import { nodeNameOf } from '../replication/replica-id.js';
import { every, type Runtime, systemRuntime } from '../util/runtime.js';
import { type ClusterFile, type Founder, readClusterFile, writeClusterFile } from './cluster-file.js';
import { ClusterMachine } from './cluster-machine.js';
import { type ClusterState, encodeClusterState, initialClusterState, type Member } from './cluster-state.js';
import { buildClusterView } from './cluster-view.js';
import { Coordinator } from './coordinator.js';
import { nextFormationStep, type SeenNode } from './formation.js';
import { foundedBy, foundingConfs } from './founding.js';
import { GroupDirectory } from './group-directory.js';
import { type JoinReply, type JoinRequest, MetaRequests } from './meta-requests.js';
import { MembershipMetrics } from './metrics.js';
import { LocalControl, type NodeControl, RemoteControl } from './node-control.js';
import { decodeWireError, encodeWireError } from './remote-error.js';
import { hostReports, isNodeReport, leadReports, type NodeReport, ReportBook } from './reports.js';
import { Seeds } from './seeds.js';

export interface MembershipOptions {
  /** This node: its name and its Raft id (name~incarnation). */
  self: { name: string; id: NodeId };
  dataDir: string;
  /** host:port the other nodes reach this node on. */
  advertise: string;
  seeds: readonly string[];
  secret: string;
  /** Nodes that must see each other before a new cluster forms. */
  form_nodes: number;
  down_after_ms: number;
  promote_lag_entries: number;
  /** A replica of `group` left this node. */
  onReplicaDestroyed: (group: GroupId) => void;
  logger: Logger;
  registry: Registry;
  runtime?: Runtime;
  report_interval_ms?: number;
  request_timeout_ms?: number;
}

/** A peer is up while it was heard from within this time (reports come every half second). */
const UP_WITHIN_MS = 3_000;
/** Unformed nodes that dialled in count as seen for this long. */
const SEEN_FOR_MS = 10_000;
/** A peer that is no member (as far as this node knows) is still dialled this long after it was last heard from. */
const KEEP_DIALLING_MS = 60_000;

/**
 * This node's part in a cluster: the node link and its requests, the meta
 * group's state, discovery (forming a cluster from the seeds, or joining
 * one), reports, the coordinator when this node leads the meta group, and the
 * view `GET /v1/cluster` shows. Raft itself is the host's; this class decides
 * who the host talks to and which groups it founds.
 */
export class ClusterMembership {
  readonly link: NodeLink;
  readonly rpc: Rpc;
  readonly machine: ClusterMachine;
  readonly reports: ReportBook;
  private readonly directory: GroupDirectory;
  private readonly seeds: Seeds;
  private readonly requests: MetaRequests;
  private readonly runtime: Runtime;
  private readonly metrics: MembershipMetrics;
  private file: ClusterFile | undefined;
  private host: RaftHost | undefined;
  private control: LocalControl | undefined;
  private coordinator: Coordinator | undefined;
  private readonly started: number;
  private readonly inbound = new Map<NodeId, { seen: SeenNode; at: number }>();
  private readonly transient = new Map<NodeId, number>();
  private formation = 'starting';
  private forming = false;
  private joinedThisRun = false;
  private readonly stops: (() => void)[] = [];
  private reportScheduled = false;
  private reportRound = 0;
  private stopped = false;
  private readonly channels = new Map<string, (from: NodeId, message: unknown) => void>();
  private readonly peerLostHandlers: ((node: NodeId) => void)[] = [];

  constructor(private readonly o: MembershipOptions) {
    this.runtime = o.runtime ?? systemRuntime;
    this.started = this.runtime.now();
    this.file = readClusterFile(o.dataDir);
    this.reports = new ReportBook(() => this.runtime.now());
    this.metrics = new MembershipMetrics(o.registry);
    this.directory = new GroupDirectory(() => this.host, this.reports);
    this.machine = new ClusterMachine((state) => this.membersChanged(state));
    this.link = new NodeLink({
      secret: o.secret,
      identity: () => ({ node: o.self.id, cluster: this.clusterId, address: o.advertise }),
      admit: (peer) => this.admit(peer),
      onMessages: (peer, msgs) => this.receive(peer, msgs),
      onInboundPeer: (peer) => this.inboundPeer(peer),
      onPeerLost: (node) => {
        this.rpc.peerLost(node);
        for (const f of this.peerLostHandlers) f(node);
      },
      runtime: this.runtime,
      logger: o.logger,
      metrics: new NodeLinkMetrics(o.registry),
    });
    this.seeds = new Seeds({
      self: o.self.id,
      seeds: o.seeds,
      probe: (address) => this.link.probe(address),
      clusterId: () => this.clusterId,
      runtime: this.runtime,
      logger: o.logger,
    });
    this.requests = new MetaRequests({
      host: () => this.host,
      machine: this.machine,
      clusterId: () => this.clusterId,
      call: (node, method, body, ms) => this.call(node, method, body, ms),
      logger: o.logger,
    });
    this.rpc = new Rpc({
      send: (node, m, onDropped) => this.link.send(node, m, onDropped),
      runtime: this.runtime,
      encodeError: encodeWireError,
      handlers: {
        'cluster.join': (_from, body) => this.requests.join(body as JoinRequest),
        'cluster.found': (from, body) => this.handleFound(from, body as FoundRequest),
        'cluster.drain': (_from, body) => this.drain((body as { name: string }).name),
        'cluster.removed': async (_from, body) =>
          this.removedFromCluster((body as { cluster_id: string }).cluster_id),
      },
    });
  }

  /** Node link messages of another channel (`ch`), such as stream relays, go to `handler`. */
  onChannel(ch: string, handler: (from: NodeId, message: unknown) => void): void {
    this.channels.set(ch, handler);
  }

  /** `handler` learns when the outbound link to a node broke (what was sent may not have arrived). */
  onPeerLost(handler: (node: NodeId) => void): void {
    this.peerLostHandlers.push(handler);
  }

  get clusterId(): string | null {
    return this.file?.cluster_id ?? null;
  }

  get self(): NodeId {
    return this.o.self.id;
  }

  /**
   * The groups this node must found at start (it is a founder whose founding
   * replicas may not be durable yet), with their configurations.
   */
  pendingFounding(): { groups: GroupId[]; confs: Map<GroupId, { voters: string[]; learners: string[] }> } {
    const founders = this.file?.founders;
    if (!founders || this.file?.bootstrapped) return { groups: [], confs: new Map() };
    const confs = foundingConfs(founders) as Map<GroupId, { voters: string[]; learners: string[] }>;
    this.machine.restore(encodeClusterState(initialClusterState(this.file!.cluster_id, founders)));
    return { groups: foundedBy(confs, this.self), confs };
  }

  /** Starts everything once the host runs; `host` founded `pendingFounding()` at its start. */
  start(host: RaftHost): void {
    this.host = host;
    this.control = new LocalControl(this.self, host, (g) => this.o.onReplicaDestroyed(g));
    for (const [method, handler] of Object.entries(this.control.handlers()))
      this.rpc.register(method, handler);
    if (this.file?.founders && !this.file.bootstrapped) this.markBootstrapped();
    this.coordinator = new Coordinator({
      self: this.self,
      host,
      cluster: () => this.machine.state,
      reports: this.reports,
      silentFor: (node) => this.silentFor(node),
      control: (node) => this.controlOf(node),
      runtime: this.runtime,
      logger: this.o.logger,
      down_after_ms: this.o.down_after_ms,
      promote_lag_entries: this.o.promote_lag_entries,
      onAction: (type) => this.metrics.change(type),
      tellRemoved: async (node) => {
        const member = this.machine.state?.members.get(node);
        if (!member) return;
        this.transient.set(node, this.runtime.now());
        this.link.setPeer(node, member.address);
        await this.call(node, 'cluster.removed', { cluster_id: this.clusterId }, 5_000);
      },
    });
    this.coordinator.start();
    this.stops.push(() => this.coordinator?.stop());
    this.stops.push(every(this.runtime, this.o.report_interval_ms ?? 500, () => this.sendReports()));
    this.stops.push(every(this.runtime, 1_000, () => void this.discover()));
    this.metrics.observe({
      coordinator: () => (this.coordinator?.isCoordinator() ? 1 : 0),
      members: () => [...(this.machine.state?.members.values() ?? [])],
      up: () => this.peersUp(),
    });
    if (this.machine.state) this.membersChanged(this.machine.state);
    void this.discover();
  }

  stop(): void {
    this.stopped = true;
    for (const stop of this.stops.splice(0)) stop();
    this.rpc.failAll('node is shutting down');
    this.link.close();
  }

  /** The host reports a leader change: tell the others soon, so they route to it. */
  leaderChanged(): void {
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    this.runtime.setTimer(20, () => {
      this.reportScheduled = false;
      this.sendReports();
    });
  }

  // ------------------------------------------------------------------ routing

  /** The node leading `group`, as far as this node knows. */
  leaderNodeOf(group: GroupId): NodeId | undefined {
    return this.directory.leaderNodeOf(group);
  }

  /** The nodes holding a voter of `group`, as its last known leader reported. */
  voterNodesOf(group: GroupId): NodeId[] {
    return this.directory.voterNodesOf(group);
  }

  isUp(node: NodeId): boolean {
    return node === this.self || this.silentFor(node) < UP_WITHIN_MS;
  }

  private silentFor(node: NodeId): number {
    const heard = this.link.lastHeard(node);
    return this.runtime.now() - (heard ?? this.started);
  }

  private peersUp(): number {
    let n = 0;
    for (const m of this.machine.state?.members.values() ?? [])
      if (m.id !== this.self && this.isUp(m.id)) n++;
    return n;
  }

  /** `GET /v1/cluster` as this node sees it. */
  view(): ClusterView {
    const state = this.machine.state;
    const self = { id: this.self, name: this.o.self.name, address: this.o.advertise };
    const members: Member[] = state ? [...state.members.values()] : [{ ...self, state: 'active' }];
    return buildClusterView({
      mode: 'cluster',
      clusterId: this.clusterId,
      self,
      members,
      isUp: (node) => this.isUp(node),
      group: (group) => this.directory.groupOf(group),
    });
  }

  // ------------------------------------------------------------------ health

  /** Why this node cannot serve, or undefined: it is a member of a cluster whose meta group has a quorum. */
  notReadyReason(): string | undefined {
    if (!this.clusterId) return this.formation;
    if (this.file?.removed) return this.removedReason();
    const state = this.machine.state;
    const me = state?.members.get(this.self);
    if (!state || !me) return `joined cluster ${this.clusterId}; waiting to be added to its meta group`;
    if (me.state === 'removed') return `this node was drained and removed from cluster ${this.clusterId}`;
    if (me.state === 'replaced') return 'another incarnation of this node replaced it';
    if (this.leaderNodeOf(META_GROUP) === undefined) {
      return 'the cluster has no quorum: its meta group has no leader';
    }
    return undefined;
  }

  /** Why API requests must be refused here even though the node runs. */
  refusalReason(): string | undefined {
    const me = this.machine.state?.members.get(this.self);
    if (this.file?.removed || me?.state === 'removed') return this.removedReason();
    if (!this.clusterId) return `not part of a cluster yet: ${this.formation}`;
    return undefined;
  }

  private removedReason(): string {
    return (
      `this node was drained and removed from cluster ${this.clusterId}; stop it, or wipe its ` +
      'FASTPACA_RAFT_DATA_DIR to add it again as a new node'
    );
  }

  /** The coordinator says this node was removed: it remembers it across restarts. */
  private async removedFromCluster(clusterId: string): Promise<void> {
    if (clusterId !== this.clusterId || !this.file || this.file.removed) return;
    this.file = { ...this.file, removed: true };
    writeClusterFile(this.o.dataDir, this.file);
    this.o.logger.warn({ type: 'node_removed' }, this.removedReason());
  }

  // ------------------------------------------------------------------ link

  private admit(peer: Hello): string | undefined {
    const mine = this.clusterId;
    if (peer.cluster !== null && mine !== null && peer.cluster !== mine) {
      return `node ${peer.node} belongs to cluster ${peer.cluster}; this node belongs to cluster ${mine}`;
    }
    return undefined;
  }

  private inboundPeer(peer: Hello): void {
    // A node dialling in that this node does not dial yet (it is joining or founding): dial it back.
    this.transient.set(peer.node, this.runtime.now());
    this.link.setPeer(peer.node, peer.address);
    if (peer.cluster === null) {
      this.inbound.set(peer.node, {
        seen: { id: peer.node, name: nodeNameOf(peer.node), cluster: null, address: peer.address },
        at: this.runtime.now(),
      });
    }
  }

  private receive(peer: Hello, msgs: unknown[]): void {
    const raft: WireMessage[] = [];
    for (const m of msgs) {
      if (isRpcMessage(m)) this.rpc.receive(peer.node, m);
      else if (isNodeReport(m)) this.reports.receive(peer.node, m);
      else if (typeof (m as { ch?: unknown })?.ch === 'string')
        this.channels.get((m as { ch: string }).ch)?.(peer.node, m);
      else raft.push(m as WireMessage);
    }
    // Raft messages count only between members of the same cluster.
    if (raft.length > 0 && this.clusterId !== null && peer.cluster === this.clusterId)
      this.host?.receive(raft);
  }

  /** The meta group's members changed: dial every member at its address, stop dialling the rest. */
  private membersChanged(state: ClusterState): void {
    const keep = new Set<NodeId>();
    for (const m of state.members.values()) {
      if (m.id === this.self || m.state === 'removed' || m.state === 'replaced') continue;
      keep.add(m.id);
      if (this.link.addressOf(m.id) !== m.address) this.link.setPeer(m.id, m.address);
    }
    const now = this.runtime.now();
    for (const peer of this.link.peers()) {
      // A peer still talking to this node stays dialled: this replica's view may be the older one.
      const recent =
        now - (this.transient.get(peer) ?? Number.NEGATIVE_INFINITY) < KEEP_DIALLING_MS ||
        now - (this.link.lastHeard(peer) ?? Number.NEGATIVE_INFINITY) < KEEP_DIALLING_MS;
      if (!keep.has(peer) && !recent) {
        this.link.removePeer(peer);
        this.reports.forget(peer);
      }
    }
  }

  private sendReports(): void {
    const host = this.host;
    if (!host || this.stopped || !this.clusterId) return;
    const leads = leadReports(host);
    const report: NodeReport = { ch: 'report', leads };
    this.reports.receive(this.self, report);
    // The coordinator plans from everyone's replicas; every few rounds all nodes get them, so
    // a new coordinator (or one this node has stale news of) has them at once.
    const coordinator = this.leaderNodeOf(META_GROUP);
    const everyone = ++this.reportRound % 4 === 0;
    const withHosts: NodeReport = { ch: 'report', leads, hosts: hostReports(host) };
    for (const peer of this.link.peers()) {
      this.link.send(peer, everyone || peer === coordinator ? withHosts : report);
    }
  }

  private controlOf(node: NodeId): NodeControl {
    if (node === this.self) return this.control!;
    return new RemoteControl(
      node,
      (n, m, b, ms) => this.call(n, m, b, ms),
      this.o.request_timeout_ms ?? 5_000,
    );
  }

  /** An RPC whose remote failure comes back as the typed error it was. */
  async call<T>(node: NodeId, method: string, body: unknown, timeoutMs: number): Promise<T> {
    try {
      return await this.rpc.call<T>(node, method, body, timeoutMs);
    } catch (error) {
      if (error instanceof RpcError && error.kind === 'remote') throw decodeWireError(error.payload, node);
      throw error;
    }
  }

  // ---------------------------------------------------------- discovery

  private async discover(): Promise<void> {
    if (this.stopped || this.forming || !this.host || this.file?.removed) return;
    this.forming = true;
    try {
      if (!this.clusterId) await this.formOrJoin();
      else if (!this.joinedThisRun) await this.rejoin();
      else if (this.seeds.checkDue()) await this.seeds.check();
    } catch (error) {
      this.o.logger.debug({ type: 'discovery_failed', err: error }, 'discovery step failed');
    } finally {
      this.forming = false;
    }
  }

  private async formOrJoin(): Promise<void> {
    const seen = await this.seeds.probe();
    const now = this.runtime.now();
    for (const [id, entry] of this.inbound) {
      if (now - entry.at > SEEN_FOR_MS) this.inbound.delete(id);
      else if (!seen.some((s) => s.id === id)) seen.push(entry.seen);
    }
    const me: SeenNode = { id: this.self, name: this.o.self.name, cluster: null, address: this.o.advertise };
    const step = nextFormationStep(me, seen, this.o.form_nodes);
    if (this.clusterId) return;
    if (step.type === 'wait') {
      if (step.reason !== this.formation) this.o.logger.info({ type: 'cluster_forming' }, step.reason);
      this.formation = step.reason;
      return;
    }
    if (step.type === 'join') {
      this.formation = `joining the cluster of ${step.via.name}`;
      this.link.setPeer(step.via.id, step.via.address);
      this.transient.set(step.via.id, now);
      const reply = await this.call<JoinReply>(step.via.id, 'cluster.join', this.joinRequest(), 5_000);
      if (!this.clusterId) await this.adopt(reply.cluster_id, reply.founders);
      this.joinedThisRun = true;
      return;
    }
    const clusterId = randomUUID();
    const founders: Founder[] = step.founders.map((f) => ({ id: f.id, name: f.name, address: f.address }));
    this.o.logger.info(
      { type: 'cluster_founding', cluster_id: clusterId, founders: founders.map((f) => f.name) },
      `founding cluster ${clusterId} with ${founders.map((f) => f.name).join(', ')}`,
    );
    await this.adopt(clusterId, founders);
    this.joinedThisRun = true;
    void this.announceFounding(clusterId, founders);
  }

  /** Tells every other founder about the new cluster until each has taken it. */
  private async announceFounding(clusterId: string, founders: readonly Founder[]): Promise<void> {
    const pending = new Set(founders.filter((f) => f.id !== this.self).map((f) => f.id));
    for (const f of founders) if (f.id !== this.self) this.link.setPeer(f.id, f.address);
    for (let attempt = 0; attempt < 600 && pending.size > 0 && !this.stopped; attempt++) {
      await Promise.all(
        [...pending].map(async (id) => {
          try {
            await this.call(
              id,
              'cluster.found',
              { cluster_id: clusterId, founders } satisfies FoundRequest,
              3_000,
            );
            pending.delete(id);
          } catch (error) {
            this.o.logger.debug(
              { type: 'cluster_found_retry', peer: id, err: error },
              'founder not told yet',
            );
          }
        }),
      );
      if (pending.size > 0) await new Promise<void>((r) => this.runtime.setTimer(1_000, r));
    }
  }

  /**
   * Becomes part of `clusterId`: recorded durably first, then (for a founder)
   * its founding replicas, then the link redials so peers see the cluster id.
   */
  private async adopt(clusterId: string, founders: readonly Founder[] | undefined): Promise<void> {
    const founder = founders?.some((f) => f.id === this.self) ?? false;
    this.file = founder
      ? { cluster_id: clusterId, founders, bootstrapped: false }
      : { cluster_id: clusterId };
    writeClusterFile(this.o.dataDir, this.file);
    if (founder && founders) {
      const confs = foundingConfs(founders);
      this.machine.restore(encodeClusterState(initialClusterState(clusterId, founders)));
      await this.host!.found(
        foundedBy(confs, this.self).map((group) => ({ group, conf: confs.get(group)! })),
      );
      this.markBootstrapped();
    }
    this.formation = `member of cluster ${clusterId}`;
    this.o.logger.info(
      { type: 'cluster_joined', cluster_id: clusterId, founder },
      `this node is in cluster ${clusterId}`,
    );
    this.link.redialAll();
  }

  private markBootstrapped(): void {
    this.file = { ...this.file!, bootstrapped: true };
    writeClusterFile(this.o.dataDir, this.file);
  }

  /** A restarted member re-announces itself (its address may have changed), once per run. */
  private async rejoin(): Promise<void> {
    const state = this.machine.state;
    const me = state?.members.get(this.self);
    if (me && me.address === this.o.advertise) {
      this.joinedThisRun = true;
      return;
    }
    const via =
      this.leaderNodeOf(META_GROUP) ??
      [...(state?.members.values() ?? [])].find((m) => m.id !== this.self && m.state === 'active')?.id;
    let target = via;
    if (!target) {
      const seen = (await this.seeds.probe()).filter((s) => s.cluster === this.clusterId);
      target = seen[0]?.id;
      if (seen[0]) this.link.setPeer(seen[0].id, seen[0].address);
    }
    if (!target) return;
    // The coordinator itself records its new address directly.
    if (target === this.self) await this.requests.join(this.joinRequest());
    else await this.call<JoinReply>(target, 'cluster.join', this.joinRequest(), 5_000);
    this.joinedThisRun = true;
  }

  /** Starts draining the node named `name` (on the coordinator; other nodes pass the request on). */
  drain(name: string): Promise<Member> {
    return this.requests.drain(name);
  }

  private joinRequest(): JoinRequest {
    return { id: this.self, name: this.o.self.name, address: this.o.advertise };
  }

  private async handleFound(_from: NodeId, body: FoundRequest): Promise<void> {
    if (this.clusterId === body.cluster_id) return;
    if (this.clusterId) throw new Error(`this node already belongs to cluster ${this.clusterId}`);
    if (!body.founders.some((f) => f.id === this.self))
      throw new Error('this node is not among the founders');
    while (this.forming) await new Promise<void>((r) => this.runtime.setTimer(20, r));
    if (this.clusterId === body.cluster_id) return;
    if (this.clusterId) throw new Error(`this node already belongs to cluster ${this.clusterId}`);
    this.forming = true;
    try {
      await this.adopt(body.cluster_id, body.founders);
      this.joinedThisRun = true;
    } finally {
      this.forming = false;
    }
  }
}

interface FoundRequest {
  cluster_id: string;
  founders: readonly Founder[];
}
