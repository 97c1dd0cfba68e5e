import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.js';
import type { GroupStateMachine, Replicator, SnapshotSteps } from '../node/replicator.js';
import {
  type Entry,
  initialGroupState,
  MultiRaft,
  type PersistAck,
  Prng,
  type RaftConfig,
  type RaftError,
  type Ready,
  type WireMessage,
} from '../raft/index.js';
import type { RaftMetrics } from './raft-metrics.js';
import type { GroupWrite, RaftStorage } from './raft-storage.js';

/** Sends Raft messages to peers; the TCP transport in production. */
export interface MessageSender {
  send(to: string, message: unknown): boolean;
}

export interface RaftHostOptions {
  nodeId: string;
  storage: RaftStorage;
  config: RaftConfig;
  tick_ms: number;
  /** A group snapshots its state machine after this many applied entries. */
  snapshot_entries: number;
  /** Groups hosted on this node. */
  groups: readonly number[];
  /** Voters of a group created from scratch (first start of the cluster). */
  initialVoters: (group: number) => string[];
  machine: (group: number) => GroupStateMachine;
  /** Undefined for a single node. */
  sender?: MessageSender;
  /** A proposal not applied within this time fails with 503 (its outcome is then unknown). */
  proposal_timeout_ms: number;
  logger: Logger;
  metrics?: RaftMetrics;
  seed?: number;
}

interface Waiter {
  term: number;
  startedAt: number;
  deadline: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface ReadWaiter {
  group: number;
  /** Set once the leader confirmed the read; served when applied reaches it. */
  index: number | undefined;
  deadline: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** How long one turn of snapshot encoding may hold the event loop. */
const snapshot_slice_ms = 3;

/**
 * The I/O around the pure multi-group Raft core for one node: a tick timer,
 * one durable storage write per turn for every group (group commit), message
 * sending, applying committed entries to the state machines, proposal and
 * read waiters, and snapshot/compaction. One turn is:
 *
 *   ready() → write snapshot/entries/hard state (one WAL append and one
 *   fsync) → send messages → apply committed entries → serve reads
 *
 * Messages may go out before the write is durable because the core withholds
 * every message that depends on it until `persisted()` reports the write.
 */
export class RaftHost implements Replicator {
  private readonly core: MultiRaft;
  private readonly machines = new Map<number, GroupStateMachine>();
  private readonly applied = new Map<number, number>();
  private readonly snapshotIndex = new Map<number, number>();
  /** Snapshots being encoded between turns, by group, with the applied index each captured. */
  private readonly snapshotting = new Map<number, { index: number; steps: SnapshotSteps }>();
  private snapshotWorkScheduled = false;
  private readonly waiters = new Map<number, Map<number, Waiter>>();
  private readonly reads = new Map<string, ReadWaiter>();
  private readonly leaders = new Map<number, string | null>();
  private readCounter = 0;
  private scheduled = false;
  private ticks = 0;
  private ticker: NodeJS.Timeout | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private writing = false;
  private queuedWrites: GroupWrite[] = [];
  private queuedAcks: PersistAck[] = [];
  private stopped = false;
  private stopping = false;
  private failed: Error | undefined;

  constructor(private readonly o: RaftHostOptions) {
    this.core = new MultiRaft({ id: o.nodeId, config: o.config, prng: new Prng(o.seed ?? Date.now()) });
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  /** Loads every group from storage (or bootstraps it), then starts ticking. */
  async start(): Promise<void> {
    const { storage } = this.o;
    const stored = new Set(storage.groups());
    const bootstrap: GroupWrite[] = [];
    for (const group of this.o.groups) {
      const machine = this.o.machine(group);
      this.machines.set(group, machine);
      if (stored.has(group)) {
        const p = storage.load(group);
        if (p.snapshot) machine.restore(p.snapshot.data);
        const applied = p.snapshot?.meta.index ?? 0;
        this.applied.set(group, applied);
        this.snapshotIndex.set(group, applied);
        this.check(
          this.core.createGroup(group, {
            storage: { hard_state: p.hardState ?? null, snapshot: p.snapshot ?? null, entries: p.entries },
            applied,
          }),
        );
      } else {
        const init = initialGroupState(
          { voters: this.o.initialVoters(group), learners: [] },
          machine.snapshot(),
        );
        bootstrap.push({
          group,
          snapshot: { snapshot: init.snapshot!, mode: 'install' },
          hardState: init.hard_state!,
        });
        this.applied.set(group, init.snapshot!.meta.index);
        this.snapshotIndex.set(group, init.snapshot!.meta.index);
        this.check(this.core.createGroup(group, { storage: init, applied: init.snapshot!.meta.index }));
      }
      this.leaders.set(group, null);
    }
    if (bootstrap.length > 0) await storage.write(bootstrap);
    // A group whose only voter is this node need not wait an election timeout.
    for (const group of this.o.groups) {
      const status = this.core.status(group);
      if (status && status.conf.voters.length === 1 && status.conf.voters[0] === this.o.nodeId) {
        this.core.campaign(group);
      }
    }
    this.ticker = setInterval(() => {
      this.core.tick();
      this.expire(performance.now());
      if (++this.ticks % 20 === 0) this.releaseOldLog();
      this.schedule();
    }, this.o.tick_ms);
    this.schedule();
  }

  /** Messages from a peer (transport callback). */
  receive(messages: readonly unknown[]): void {
    if (this.stopped) return;
    for (const m of messages) this.core.step(m as WireMessage);
    this.schedule();
  }

  propose(group: number, data: Uint8Array): Promise<unknown> {
    if (this.stopped || this.stopping) return Promise.reject(unavailable('node is shutting down'));
    if (this.failed) return Promise.reject(unavailable(`storage failed: ${this.failed.message}`));
    const res = this.core.propose(group, data);
    if (!res.ok) return Promise.reject(fromRaftError(group, res.error));
    const { index, term } = res.value;
    this.schedule();
    return new Promise((resolve, reject) => {
      let byIndex = this.waiters.get(group);
      if (!byIndex) {
        byIndex = new Map();
        this.waiters.set(group, byIndex);
      }
      const now = performance.now();
      byIndex.set(index, {
        term,
        startedAt: now,
        deadline: now + this.o.proposal_timeout_ms,
        resolve,
        reject,
      });
    });
  }

  readBarrier(group: number): Promise<void> {
    if (this.stopped || this.stopping) return Promise.reject(unavailable('node is shutting down'));
    if (this.failed) return Promise.reject(unavailable(`storage failed: ${this.failed.message}`));
    const ctx = `${this.o.nodeId}:${++this.readCounter}`;
    const res = this.core.readIndex(group, ctx);
    if (!res.ok) return Promise.reject(fromRaftError(group, res.error));
    this.schedule();
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + this.o.proposal_timeout_ms;
      this.reads.set(ctx, { group, index: undefined, deadline, resolve, reject });
    });
  }

  notReadyReason(): string | undefined {
    if (this.stopped || this.stopping) return 'shutting down';
    if (this.failed) return `storage failed: ${this.failed.message}`;
    let leaderless = 0;
    for (const lead of this.leaders.values()) if (lead === null) leaderless++;
    return leaderless > 0 ? `${leaderless} of ${this.leaders.size} groups have no leader yet` : undefined;
  }

  leaderOf(group: number): string | null {
    return this.leaders.get(group) ?? null;
  }

  isLeader(group: number): boolean {
    return this.leaders.get(group) === this.o.nodeId;
  }

  status(group: number) {
    return this.core.status(group);
  }

  /**
   * Stops the node; the storage is closed by its owner. By default every group first snapshots what it applied
   * since its last snapshot, so the next start restores snapshots instead of
   * replaying log entries.
   */
  async stop(options: { snapshot?: boolean } = {}): Promise<void> {
    if (this.stopped || this.stopping) return;
    this.stopping = true;
    if (this.ticker) clearInterval(this.ticker);
    if (options.snapshot !== false && !this.failed) {
      this.snapshotting.clear();
      for (const [group, machine] of this.machines) this.snapshotGroup(group, machine);
      for (let round = 0; round < 1_000 && !this.failed; round++) {
        this.turn();
        await this.lastWrite.catch(() => {});
        if (!this.writing && this.queuedWrites.length === 0 && !this.core.hasReady()) break;
      }
    }
    this.stopped = true;
    await this.lastWrite.catch(() => {});
    for (const byIndex of this.waiters.values()) {
      for (const w of byIndex.values()) w.reject(unavailable('node is shutting down', 'unknown'));
    }
    this.waiters.clear();
    for (const r of this.reads.values()) r.reject(unavailable('node is shutting down'));
    this.reads.clear();
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
    this.writing = false;
    this.queuedWrites = [];
    this.queuedAcks = [];
    if (this.ticker) clearInterval(this.ticker);
    this.o.logger.fatal(
      { type: 'storage_failed', err: error },
      'raft storage write failed; node stops serving',
    );
    const why = unavailable(`storage failed: ${error.message}`, 'unknown');
    for (const byIndex of this.waiters.values()) for (const w of byIndex.values()) w.reject(why);
    this.waiters.clear();
    for (const r of this.reads.values()) r.reject(why);
    this.reads.clear();
  }

  /**
   * Fails proposals and reads past their deadline. One sweep per tick instead
   * of a timer per request keeps the hot path free of timer churn.
   */
  private expire(now: number): void {
    for (const [group, byIndex] of this.waiters) {
      for (const [index, w] of byIndex) {
        if (w.deadline > now) continue;
        byIndex.delete(index);
        this.o.metrics?.proposalFailed('timeout');
        w.reject(
          unavailable(
            `group ${group} did not commit in ${this.o.proposal_timeout_ms} ms; outcome unknown`,
            'unknown',
          ),
        );
      }
    }
    for (const [ctx, r] of this.reads) {
      if (r.deadline > now) continue;
      this.reads.delete(ctx);
      r.reject(unavailable(`group ${r.group} could not confirm a linearizable read in time`));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  private turn(): void {
    if (this.stopped || this.failed || !this.core.hasReady()) return;
    const { readies, messages } = this.core.ready();
    this.persist(readies);
    if (this.o.sender) for (const m of messages) this.o.sender.send(m.to, m);
    for (const r of readies) this.applyReady(r);
    if (this.core.hasReady()) this.schedule();
  }

  /**
   * Group commit: at most one storage write is in flight. Whatever the turns
   * produce meanwhile is queued and goes out as the next single write (one
   * transaction, one fsync), so the batch grows with the load instead of the
   * number of fsyncs. Acknowledgements are reported in write order.
   */
  private persist(readies: readonly Ready[]): void {
    for (const r of readies) {
      if (r.snapshot || r.entries.length > 0 || r.hard_state) {
        this.queuedWrites.push({
          group: r.group,
          ...(r.snapshot && { snapshot: r.snapshot }),
          ...(r.entries.length > 0 && { entries: r.entries }),
          ...(r.hard_state && { hardState: r.hard_state }),
        });
      }
      if (r.ack) this.queuedAcks.push(r.ack);
    }
    if (!this.writing) this.flushQueued();
  }

  private flushQueued(): void {
    const writes = this.queuedWrites;
    const acks = this.queuedAcks;
    this.queuedWrites = [];
    this.queuedAcks = [];
    if (writes.length === 0) {
      if (acks.length > 0) this.core.persisted(acks);
      return;
    }
    this.writing = true;
    const started = performance.now();
    const write = this.o.storage.write(writes).then(
      () => {
        this.writing = false;
        this.o.metrics?.storageWrite(performance.now() - started, writes.length);
        if (this.stopped) return;
        this.core.persisted(acks);
        if (this.queuedWrites.length > 0 || this.queuedAcks.length > 0) this.flushQueued();
        this.schedule();
      },
      (error: Error) => this.fail(error),
    );
    this.lastWrite = write;
  }

  private applyReady(r: Ready): void {
    const { group } = r;
    const machine = this.machines.get(group)!;
    if (r.soft_state) {
      const previous = this.leaders.get(group) ?? null;
      if (previous !== r.soft_state.lead) {
        this.leaders.set(group, r.soft_state.lead);
        if (r.soft_state.lead !== null) this.o.metrics?.leaderChanged();
        this.o.logger.debug(
          { type: 'raft_leader', group, leader: r.soft_state.lead, term: r.soft_state.term },
          'group leader changed',
        );
      }
      if (r.soft_state.role !== 'leader') this.failReads(group, 'leadership moved; retry');
    }
    if (r.snapshot?.mode === 'install') {
      // A leader's snapshot replaces the log this node's own snapshot in progress was taken from.
      this.snapshotting.delete(group);
      machine.restore(r.snapshot.snapshot.data);
      const index = r.snapshot.snapshot.meta.index;
      this.applied.set(group, index);
      this.snapshotIndex.set(group, index);
      this.failWaitersThrough(group, index);
    }
    for (const e of r.committed_entries) this.applyEntry(group, machine, e);
    for (const rs of r.read_states) {
      const waiter = this.reads.get(rs.ctx);
      if (waiter) waiter.index = rs.index;
    }
    this.serveReads(group);
    this.maybeSnapshot(group, machine);
  }

  private applyEntry(group: number, machine: GroupStateMachine, e: Entry): void {
    const result = e.type === 'normal' && e.data.length > 0 ? machine.apply(e.data) : undefined;
    this.applied.set(group, e.index);
    const byIndex = this.waiters.get(group);
    const w = byIndex?.get(e.index);
    if (!w || !byIndex) return;
    byIndex.delete(e.index);
    if (w.term === e.term) {
      this.o.metrics?.committed((performance.now() - w.startedAt) / 1000);
      w.resolve(result);
    } else {
      // Another leader's entry took this index: ours was never committed.
      this.o.metrics?.proposalFailed('overwritten');
      w.reject(unavailable(`group ${group} changed leader before the write committed; retry`));
    }
  }

  private failWaitersThrough(group: number, index: number): void {
    const byIndex = this.waiters.get(group);
    if (!byIndex) return;
    for (const [i, w] of byIndex) {
      if (i > index) continue;
      byIndex.delete(i);
      w.reject(unavailable(`group ${group} was replaced by a snapshot; outcome unknown`, 'unknown'));
    }
  }

  private serveReads(group: number): void {
    const applied = this.applied.get(group) ?? 0;
    for (const [ctx, r] of this.reads) {
      if (r.group !== group || r.index === undefined || r.index > applied) continue;
      this.reads.delete(ctx);
      r.resolve();
    }
  }

  private failReads(group: number, why: string): void {
    for (const [ctx, r] of this.reads) {
      if (r.group !== group || r.index !== undefined) continue;
      this.reads.delete(ctx);
      r.reject(unavailable(`group ${group}: ${why}`));
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
      if (machine) this.startSnapshot(group, machine);
    }
    this.schedule();
  }

  private maybeSnapshot(group: number, machine: GroupStateMachine): void {
    const applied = this.applied.get(group) ?? 0;
    const last = this.snapshotIndex.get(group) ?? 0;
    if (applied - last >= this.o.snapshot_entries) this.startSnapshot(group, machine);
  }

  /**
   * Captures the group's state at its applied index and encodes it in slices
   * between turns: a group holding a long history takes many milliseconds to
   * encode, and every other group would wait that long for its appends.
   */
  private startSnapshot(group: number, machine: GroupStateMachine): void {
    if (this.snapshotting.has(group)) return;
    const index = this.applied.get(group) ?? 0;
    if (index <= (this.snapshotIndex.get(group) ?? 0)) return;
    const steps = machine.snapshotEncoder?.() ?? { step: () => machine.snapshot() };
    this.snapshotting.set(group, { index, steps });
    this.scheduleSnapshotWork();
  }

  private scheduleSnapshotWork(): void {
    if (this.snapshotWorkScheduled) return;
    this.snapshotWorkScheduled = true;
    // setImmediate, not a microtask: network and disk callbacks run between slices.
    setImmediate(() => {
      this.snapshotWorkScheduled = false;
      this.snapshotWork();
    });
  }

  private snapshotWork(): void {
    if (this.stopped || this.stopping || this.failed) return;
    const deadline = performance.now() + snapshot_slice_ms;
    for (const [group, job] of this.snapshotting) {
      const data = job.steps.step(deadline);
      if (data) {
        this.snapshotting.delete(group);
        this.compact(group, job.index, data);
      }
      if (performance.now() >= deadline) break;
    }
    if (this.snapshotting.size > 0) this.scheduleSnapshotWork();
  }

  /** Snapshots the group at its applied index at once (shutdown). */
  private snapshotGroup(group: number, machine: GroupStateMachine): void {
    const applied = this.applied.get(group) ?? 0;
    if (applied <= (this.snapshotIndex.get(group) ?? 0)) return;
    this.compact(group, applied, machine.snapshot());
  }

  private compact(group: number, index: number, data: Uint8Array): void {
    const res = this.core.compact(group, index, data);
    if (!res.ok) {
      this.o.logger.warn({ type: 'raft_compact_failed', group, err: res.error }, 'compaction refused');
      return;
    }
    this.snapshotIndex.set(group, index);
    this.o.metrics?.snapshotTaken(data.length);
    this.schedule();
  }

  private check(res: { ok: boolean; error?: RaftError }): void {
    if (!res.ok) throw new Error(`raft: ${res.error?.message}`);
  }
}

/**
 * `outcome` tells a client whether retrying can apply a write twice:
 * `not_applied` means the entry never took effect (safe to retry), `unknown`
 * means it may still commit (retry only what is idempotent, e.g. appends with
 * their idempotency key).
 */
function unavailable(message: string, outcome: 'unknown' | 'not_applied' = 'not_applied'): AppError {
  return new AppError('unavailable', message, { outcome }, 1);
}

function fromRaftError(group: number, error: RaftError): AppError {
  switch (error.code) {
    case 'not_leader':
      return unavailable(
        error.leader ? `group ${group} is led by ${error.leader}` : `group ${group} has no leader yet; retry`,
      );
    case 'uncommitted_limit':
    case 'read_index_queue_full':
      return new AppError(
        'rate_limited',
        `group ${group} is overloaded (${error.message}); retry`,
        undefined,
        1,
      );
    case 'entry_too_large':
      return new AppError('payload_too_large', error.message);
    default:
      return unavailable(`group ${group}: ${error.message}`);
  }
}
