import type { Logger } from 'pino';
import type { BugSwitches } from '../../raft/bugs.js';
import {
  type Checksum,
  type ConfChange,
  type ConfState,
  type Entry,
  type GroupId,
  initialGroupState,
  MultiRaft,
  type NodeId,
  type PersistAck,
  Prng,
  type RaftConfig,
  type RaftStatus,
  type Ready,
  type Replica,
  type ReplicaId,
  type Result,
  type Snapshot,
  type WireMessage,
} from '../../raft/index.js';
import { crc32 } from '../../util/checksum.js';
import { every, type Runtime, systemRuntime } from '../../util/runtime.js';
import { fromRaftError, ReplicationError } from '../errors.js';
import type { RaftMetrics } from '../metrics.js';
import { nodeOfReplica } from '../replica-id.js';
import type { Replicator } from '../replicator.js';
import type { GroupWrite, PersistedGroup, RaftStorage } from '../storage/raft-storage.js';
import { GroupCommitWriter } from './group-commit-writer.js';
import { PendingRequests } from './pending-requests.js';
import { SnapshotScheduler } from './snapshot-scheduler.js';
import type { GroupStateMachine } from './state-machine.js';

/** Sends Raft messages to peer nodes; the node link in production. */
export interface MessageSender {
  /** `to` is the node (a message's replica ids are inside it). */
  send(to: NodeId, message: WireMessage): boolean;
}

/**
 * What a host does, for whoever needs to watch it closely: the simulator's
 * checkers, and tests. Called synchronously; must not drive the host.
 */
export interface HostObserver {
  /** A replica was created from storage (`stored`) or empty (undefined). */
  started?(group: GroupId, replica: Replica, stored: PersistedGroup | undefined): void;
  /** A group's `Ready`, before it is persisted, sent or applied. */
  ready?(r: Ready, replica: Replica): void;
  /** A committed entry was applied (normal entries to the state machine first). */
  applied?(group: GroupId, entry: Entry): void;
  /** A leader's snapshot replaced the group's state. */
  restored?(group: GroupId, snapshot: Snapshot): void;
}

export interface RaftHostOptions {
  nodeId: NodeId;
  storage: RaftStorage;
  config: RaftConfig;
  tick_ms: number;
  /** A group snapshots its state machine after this many applied entries. */
  snapshot_entries: number;
  /**
   * Groups this node founds when its storage does not hold them yet (the first
   * start of a cluster), with `initialVoters` as their members. Every group the
   * storage holds is loaded whether listed or not.
   */
  bootstrap: readonly GroupId[];
  initialVoters: (group: GroupId) => ReplicaId[];
  /** Learners of a founded group (none by default). */
  initialLearners?: (group: GroupId) => ReplicaId[];
  /** The state machine of a group (restored from snapshots by the host). */
  machine: (group: GroupId) => GroupStateMachine;
  /** Undefined for a single node. */
  sender?: MessageSender;
  /** A proposal not applied within this time fails (its outcome is then unknown). */
  proposal_timeout_ms: number;
  logger: Logger;
  metrics?: RaftMetrics;
  seed?: number;
  runtime?: Runtime;
  checksum?: Checksum;
  /** How long one slice of snapshot encoding may hold the event loop. */
  snapshot_slice_ms?: number;
  observer?: HostObserver;
  /** A local group learned of a new leader (or lost it: null). */
  onLeaderChange?: (group: GroupId, leader: ReplicaId | null) => void;
  /** Test-only fault switches (`bugsForTesting`). */
  bugs?: BugSwitches;
}

/**
 * The I/O around the pure multi-group Raft core for one node: a tick timer,
 * one durable storage write per turn for every group (group commit), message
 * sending, applying committed entries to the state machines, waiting
 * proposals and reads, snapshots, and the group lifecycle. One turn is:
 *
 *   ready() → queue snapshot/entries/hard state for the WAL (one frame, one
 *   O_DSYNC write per batch) → send messages → apply committed entries →
 *   serve reads
 *
 * Messages may go out before the write is durable because the core withholds
 * every message that depends on it until `persisted()` reports the write.
 * Time, timers and randomness come from `runtime`, so the simulator runs this
 * very driver in virtual time.
 */
export class RaftHost implements Replicator {
  private readonly core: MultiRaft;
  private readonly runtime: Runtime;
  private readonly checksum: Checksum;
  private readonly machines = new Map<GroupId, GroupStateMachine>();
  private readonly applied = new Map<GroupId, number>();
  private readonly snapshotIndex = new Map<GroupId, number>();
  private readonly leaders = new Map<GroupId, ReplicaId | null>();
  private readonly pending: PendingRequests;
  private readonly writer: GroupCommitWriter;
  private readonly snapshots: SnapshotScheduler;
  private readCounter = 0;
  /**
   * Read contexts are unique to this process: a leader's answer to a read a
   * previous run of this node asked for may still arrive, and must not serve
   * a new read that happens to reuse its context (with an older index).
   */
  private readonly readPrefix: string;
  private scheduled = false;
  private ticks = 0;
  private cancelTicker: (() => void) | undefined;
  private stopped = false;
  private stopping = false;
  private failed: Error | undefined;

  constructor(private readonly o: RaftHostOptions) {
    this.runtime = o.runtime ?? systemRuntime;
    const checksum = o.checksum ?? crc32;
    this.checksum = checksum;
    this.core = new MultiRaft({
      id: o.nodeId,
      nodeOf: nodeOfReplica,
      config: o.config,
      prng: new Prng(o.seed ?? Math.floor(this.runtime.random() * 2 ** 32)),
      checksum,
      ...(o.bugs && { bugs: o.bugs }),
    });
    this.readPrefix = `${o.nodeId}:${Math.floor(this.runtime.random() * 2 ** 48).toString(36)}`;
    this.pending = new PendingRequests((ms) => o.metrics?.committed(ms / 1000), o.bugs?.ack_matched_by_index);
    this.writer = new GroupCommitWriter({
      storage: o.storage,
      runtime: this.runtime,
      onDurable: (acks) => this.durable(acks),
      onFailed: (error) => this.fail(error),
      onWrite: (ms, groups) => o.metrics?.storageWrite(ms, groups),
    });
    this.snapshots = new SnapshotScheduler({
      runtime: this.runtime,
      checksum,
      slice_ms: o.snapshot_slice_ms ?? 3,
      compact: (group, index, data, crc) => this.compact(group, index, data, crc),
      running: () => this.running() && !this.stopping,
    });
  }

  get nodeId(): NodeId {
    return this.o.nodeId;
  }

  /** Loads every stored group, founds the bootstrap groups storage lacks, then starts ticking. */
  async start(): Promise<void> {
    const { storage } = this.o;
    const stored = new Set(storage.groups());
    for (const group of stored) {
      const p = await storage.load(group);
      const machine = this.o.machine(group);
      if (p.snapshot) machine.restore(p.snapshot.data);
      const applied = p.snapshot?.meta.index ?? 0;
      this.check(
        group,
        this.core.createGroup(group, {
          storage: { hard_state: p.hardState ?? null, snapshot: p.snapshot ?? null, entries: p.entries },
          applied,
          ...(p.replica !== undefined && { replica: p.replica }),
        }),
      );
      this.track(group, machine, applied, p);
    }
    await this.foundGroups(
      this.o.bootstrap.map((group) => ({
        group,
        conf: { voters: this.o.initialVoters(group), learners: this.o.initialLearners?.(group) ?? [] },
      })),
    );
    this.campaignAlone(this.core.groups());
    this.cancelTicker = every(this.runtime, this.o.tick_ms, () => this.tick());
    this.schedule();
  }

  /**
   * Founds groups this node is a founding member of, with the configuration
   * every founding member uses (the first start of a cluster; a cluster node
   * learns it is a founder after it started). Groups storage holds, or held
   * once (a tombstone), are skipped. Resolves once the founding state is
   * durable: a founding member that crashed then must not come back empty.
   */
  async found(groups: readonly { group: GroupId; conf: ConfState }[]): Promise<void> {
    const refused = this.stopped || this.stopping || this.failed;
    if (refused) throw new ReplicationError('stopping', undefined, 'node is not running');
    this.campaignAlone(await this.foundGroups(groups));
    this.schedule();
  }

  private async foundGroups(groups: readonly { group: GroupId; conf: ConfState }[]): Promise<GroupId[]> {
    const { storage } = this.o;
    const founding: GroupWrite[] = [];
    const founded: GroupId[] = [];
    for (const { group, conf } of groups) {
      if (this.core.hasGroup(group) || storage.groups().includes(group)) continue;
      if (storage.tombstone(group) !== undefined) {
        // Removed from this node once: it comes back only as a new replica added by its members.
        this.o.logger.warn({ type: 'raft_bootstrap_skipped', group }, 'not refounding a removed group');
        continue;
      }
      const machine = this.o.machine(group);
      const data = machine.snapshot();
      const init = initialGroupState(conf, { data, checksum: this.checksum(data) });
      const snapshot = init.snapshot!;
      const hardState = init.hard_state!;
      founding.push({ group, snapshot: { snapshot, mode: 'install' }, hardState });
      this.check(group, this.core.createGroup(group, { storage: init, applied: snapshot.meta.index }));
      this.track(group, machine, snapshot.meta.index, { hardState, snapshot, entries: [] });
      founded.push(group);
    }
    if (founding.length > 0) await storage.write(founding);
    return founded;
  }

  /** A group whose only voter is this node's replica need not wait an election timeout. */
  private campaignAlone(groups: readonly GroupId[]): void {
    for (const group of groups) {
      const status = this.core.status(group);
      if (status && status.conf.voters.length === 1 && status.conf.voters[0] === status.id) {
        this.core.campaign(group);
      }
    }
  }

  private track(group: GroupId, machine: GroupStateMachine, applied: number, stored?: PersistedGroup): void {
    this.machines.set(group, machine);
    this.applied.set(group, applied);
    this.snapshotIndex.set(group, applied);
    this.leaders.set(group, null);
    this.o.observer?.started?.(group, this.core.node(group)!, stored);
  }

  private tick(): void {
    if (!this.running()) return;
    this.core.tick();
    this.pending.expire(this.runtime.now(), this.o.proposal_timeout_ms, () =>
      this.o.metrics?.proposalFailed('timeout'),
    );
    if (++this.ticks % 20 === 0) this.releaseOldLog();
    this.schedule();
  }

  /** Messages from a peer (node link callback). */
  receive(messages: readonly WireMessage[]): void {
    if (!this.running()) return;
    for (const m of messages) this.core.step(m);
    this.schedule();
  }

  propose(group: GroupId, data: Uint8Array): Promise<unknown> {
    const refused = this.refusal(group);
    if (refused) return Promise.reject(refused);
    const res = this.core.propose(group, data);
    if (!res.ok) return Promise.reject(fromRaftError(group, res.error));
    this.schedule();
    const now = this.runtime.now();
    return this.pending.addProposal(
      group,
      res.value.index,
      res.value.term,
      now,
      now + this.o.proposal_timeout_ms,
    );
  }

  readBarrier(group: GroupId): Promise<void> {
    const refused = this.refusal(group);
    if (refused) return Promise.reject(refused);
    const ctx = `${this.readPrefix}:${++this.readCounter}`;
    const res = this.core.readIndex(group, ctx);
    if (!res.ok) return Promise.reject(fromRaftError(group, res.error));
    this.schedule();
    return this.pending.addRead(group, ctx, this.runtime.now() + this.o.proposal_timeout_ms);
  }

  /** Proposes a membership change (leader only); resolves once it is applied here. */
  async proposeConfChange(group: GroupId, change: ConfChange): Promise<void> {
    const refused = this.refusal(group);
    if (refused) throw refused;
    const res = this.core.proposeConfChange(group, change);
    if (!res.ok) throw fromRaftError(group, res.error);
    this.schedule();
    const now = this.runtime.now();
    await this.pending.addProposal(
      group,
      res.value.index,
      res.value.term,
      now,
      now + this.o.proposal_timeout_ms,
    );
  }

  /** Asks the group's leader (this node) to hand leadership to `to`. */
  transferLeadership(group: GroupId, to: ReplicaId): void {
    const refused = this.refusal(group);
    if (refused) throw refused;
    const res = this.core.transferLeader(group, to);
    if (!res.ok) throw fromRaftError(group, res.error);
    this.schedule();
  }

  /**
   * Creates an empty replica of a group this node is being added to, as
   * `replica` (`replicaId(node, …)`: an id never used in the group before, so
   * it can never be taken for an earlier replica of this node). It waits for a
   * snapshot from the leader before it votes. If the group was removed from
   * this node before, the new replica also starts above every term the old one
   * reached (its tombstone). The id is recorded before anything else of it.
   */
  addReplica(group: GroupId, replica: ReplicaId): void {
    const refused = this.stopped || this.stopping || this.failed;
    if (refused) throw new ReplicationError('stopping', group, 'node is not running');
    if (this.core.hasGroup(group)) return;
    const tombstone = this.o.storage.tombstone(group);
    this.writer.submitWrite({ group, replica });
    this.check(
      group,
      this.core.createGroup(group, { replica, ...(tombstone !== undefined && { min_term: tombstone + 1 }) }),
    );
    this.track(group, this.o.machine(group), 0);
    this.schedule();
  }

  /**
   * Destroys this node's replica of a group (after its removal committed, or
   * to discard a replica that never joined), recording a tombstone of at least
   * `tombstoneTerm` (the term that removed it, if the caller knows it).
   */
  async removeReplica(group: GroupId, tombstoneTerm = 0): Promise<void> {
    const res = this.core.removeGroup(group);
    if (!res.ok) throw fromRaftError(group, res.error);
    this.machines.delete(group);
    this.applied.delete(group);
    this.snapshotIndex.delete(group);
    this.leaders.delete(group);
    this.snapshots.cancel(group);
    this.pending.failGroup(group, 'left this node');
    this.writer.dropGroup(group);
    await this.o.storage.removeGroup(group, Math.max(res.value.term, tombstoneTerm));
  }

  /** Starts an election for the group now (tests and operators). */
  campaign(group: GroupId): void {
    this.core.campaign(group);
    this.schedule();
  }

  notReadyReason(): string | undefined {
    if (this.stopped || this.stopping) return 'shutting down';
    if (this.failed) return `storage failed: ${this.failed.message}`;
    let leaderless = 0;
    for (const lead of this.leaders.values()) if (lead === null) leaderless++;
    return leaderless > 0 ? `${leaderless} of ${this.leaders.size} groups have no leader yet` : undefined;
  }

  /** The storage error that stopped this node, if any: it must be restarted. */
  failure(): Error | undefined {
    return this.failed;
  }

  groups(): GroupId[] {
    return this.core.groups();
  }

  hosts(group: GroupId): boolean {
    return this.core.hasGroup(group);
  }

  /** The replica leading the group, as this node knows it (`nodeOfReplica` gives its node). */
  leaderOf(group: GroupId): ReplicaId | null {
    return this.leaders.get(group) ?? null;
  }

  isLeader(group: GroupId): boolean {
    const lead = this.leaders.get(group);
    return lead !== undefined && lead !== null && lead === this.core.node(group)?.id;
  }

  /** This node's replica id in the group. */
  replicaOf(group: GroupId): ReplicaId | undefined {
    return this.core.node(group)?.id;
  }

  status(group: GroupId): RaftStatus | undefined {
    return this.core.status(group);
  }

  /**
   * Stops the node; the storage is closed by its owner. By default every group
   * first snapshots what it applied since its last snapshot, so the next start
   * restores snapshots instead of replaying log entries.
   */
  async stop(options: { snapshot?: boolean } = {}): Promise<void> {
    if (this.stopped || this.stopping) return;
    this.stopping = true;
    this.cancelTicker?.();
    if (options.snapshot !== false && !this.failed) {
      this.snapshots.cancelAll();
      for (const [group, machine] of this.machines) {
        const applied = this.applied.get(group) ?? 0;
        if (applied > (this.snapshotIndex.get(group) ?? 0)) this.snapshots.takeNow(group, applied, machine);
      }
      for (let round = 0; round < 1_000 && !this.failed; round++) {
        this.turn();
        await this.writer.settled();
        if (this.writer.idle() && !this.core.hasReady()) break;
      }
    }
    this.stopped = true;
    this.writer.stop();
    await this.writer.settled();
    this.pending.failAll('stopping', 'node is shutting down');
  }

  private running(): boolean {
    return !this.stopped && this.failed === undefined;
  }

  /** Why a request cannot even be tried on this node now, if it cannot. */
  private refusal(group: GroupId): ReplicationError | undefined {
    if (this.stopped || this.stopping)
      return new ReplicationError('stopping', group, 'node is shutting down');
    if (this.failed) {
      return new ReplicationError('storage_failed', group, `storage failed: ${this.failed.message}`);
    }
    return undefined;
  }

  /**
   * A failed write leaves the durable state unknown, so the node stops
   * acknowledging anything at once: it stops ticking, fails every waiting
   * proposal and read, and reports not ready until restarted (recovery then
   * rebuilds from what is really on disk).
   */
  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = error;
    this.cancelTicker?.();
    this.snapshots.cancelAll();
    this.o.logger.fatal(
      { type: 'storage_failed', err: error },
      'raft storage write failed; node stops serving until restarted',
    );
    this.pending.failAll('storage_failed', `storage failed: ${error.message}`);
  }

  private durable(acks: readonly PersistAck[]): void {
    if (!this.running()) return;
    this.core.persisted(acks);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.running()) return;
    this.scheduled = true;
    this.runtime.soon(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  private turn(): void {
    if (!this.running() || !this.core.hasReady()) return;
    const { readies, messages } = this.core.ready();
    const observer = this.o.observer;
    if (observer?.ready) for (const r of readies) observer.ready(r, this.core.node(r.group)!);
    this.writer.submit(readies);
    if (this.o.sender) {
      for (const m of messages) {
        this.o.sender.send(nodeOfReplica(m.to), m);
        if (m.type === 'snap' && m.done) this.o.metrics?.snapshotTransferred('sent');
      }
    }
    for (const r of readies) this.applyReady(r);
    if (this.core.hasReady()) this.schedule();
  }

  private applyReady(r: Ready): void {
    const { group } = r;
    const machine = this.machines.get(group);
    if (!machine) return;
    if (r.soft_state) {
      const previous = this.leaders.get(group) ?? null;
      if (previous !== r.soft_state.lead) {
        this.leaders.set(group, r.soft_state.lead);
        if (r.soft_state.lead !== null) this.o.metrics?.leaderChanged();
        this.o.logger.debug(
          { type: 'raft_leader', group, leader: r.soft_state.lead, term: r.soft_state.term },
          'group leader changed',
        );
        this.o.onLeaderChange?.(group, r.soft_state.lead);
      }
      if (r.soft_state.role !== 'leader') this.pending.failUnconfirmedReads(group, 'leadership moved; retry');
      if (r.soft_state.role === 'candidate') this.o.metrics?.electionStarted();
    }
    if (r.snapshot?.mode === 'install') {
      // A leader's snapshot replaces the log this node's own snapshot in progress was taken from.
      this.snapshots.cancel(group);
      const { snapshot } = r.snapshot;
      machine.restore(snapshot.data);
      const index = snapshot.meta.index;
      this.applied.set(group, index);
      this.snapshotIndex.set(group, index);
      this.pending.supersededThrough(group, index, 'was replaced by a snapshot');
      this.o.metrics?.snapshotTransferred('received');
      this.o.observer?.restored?.(group, snapshot);
    }
    const now = this.runtime.now();
    for (const e of r.committed_entries) {
      const result = e.type === 'normal' && e.data.length > 0 ? machine.apply(e.data) : undefined;
      this.applied.set(group, e.index);
      this.o.observer?.applied?.(group, e);
      this.pending.applied(group, e.index, e.term, result, now);
    }
    for (const rs of r.read_states) this.pending.readConfirmed(rs.ctx, rs.index);
    const applied = this.applied.get(group) ?? 0;
    this.pending.serveReads(group, applied);
    if (applied - (this.snapshotIndex.get(group) ?? 0) >= this.o.snapshot_entries) {
      this.snapshots.start(group, applied, machine);
    }
  }

  /**
   * A group that writes rarely never reaches its snapshot interval, yet its few
   * entries keep old log segments alive; snapshot such groups so storage (and
   * recovery time) stays bounded.
   */
  private releaseOldLog(): void {
    for (const group of this.o.storage.groupsPinningOldLog()) {
      const machine = this.machines.get(group);
      const applied = this.applied.get(group) ?? 0;
      if (machine && applied > (this.snapshotIndex.get(group) ?? 0))
        this.snapshots.start(group, applied, machine);
    }
  }

  private compact(group: GroupId, index: number, data: Uint8Array, checksum: number): void {
    if (!this.core.hasGroup(group)) return;
    const res = this.core.compact(group, index, data, checksum);
    if (!res.ok) {
      this.o.logger.warn({ type: 'raft_compact_failed', group, err: res.error }, 'compaction refused');
      return;
    }
    this.snapshotIndex.set(group, index);
    this.o.metrics?.snapshotTaken(data.length);
    this.schedule();
  }

  private check(group: GroupId, res: Result<unknown>): void {
    if (!res.ok) throw new Error(`raft group ${group}: ${res.error.message}`);
  }
}
