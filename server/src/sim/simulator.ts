import { type BugName, type BugSwitches, bugsForTesting } from '../raft/bugs.js';
import { isMember } from '../raft/conf.js';
import { type RaftConfig, validateRaftConfig } from '../raft/config.js';
import type { GroupId, NodeId, RaftNode, Ready, WireMessage } from '../raft/index.js';
import { Prng } from '../raft/prng.js';
import type { HostObserver } from '../replication/host/raft-host.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import { WalCorruptionError } from '../replication/storage/wal-storage.js';
import { type CheckerName, SafetyChecker, StateDigests, Violation } from './checkers.js';
import { Clients } from './clients.js';
import { EventQueue } from './event-queue.js';
import { checkHistory } from './history.js';
import { MembershipController } from './membership.js';
import { describeScenario, type Scenario, scenarioFor } from './scenario.js';
import { NO_DISK_FAULTS, SimDisk } from './sim-disk.js';
import { CALM_NETWORK, SimNetwork } from './sim-network.js';
import { type ProcessOptions, SimNode, type SimProcess } from './sim-node.js';
import { emptyStats, type SimStats, type SimWorld } from './world.js';

export type { SimStats } from './world.js';

export interface SimOptions {
  readonly seed: number;
  /** Test-only: re-introduce classic consensus and storage bugs into every node. */
  readonly bugs?: readonly BugName[];
  /** Keep a trace of notable events (printed for failing seeds with --verbose). */
  readonly trace?: boolean;
  /** A named fault profile (see PROFILES); `mixed` by default. */
  readonly profile?: string;
  readonly scenario?: Partial<Scenario>;
}

export interface SimFailure {
  readonly checker: CheckerName;
  readonly message: string;
  readonly timeMs: number;
}

export interface SimResult {
  readonly seed: number;
  readonly profile: string;
  readonly ok: boolean;
  readonly failure: SimFailure | null;
  readonly scenario: string;
  readonly stats: SimStats;
  readonly trace: readonly string[];
}

interface SimEvent {
  /** -1: the simulation itself; else a node's process, which must still run as `epoch`. */
  readonly node: number;
  readonly epoch: number;
  readonly fn: () => void;
}

/** Bounds on a run's work, so a livelock fails the seed instead of hanging it. */
const MAX_EVENTS = 3_000_000;
const MAX_NETWORK_BYTES = 512 * 1024 * 1024;
const TRACE_LINES = 6000;

/** Lets every promise continuation queued so far run (process.nextTick runs after the microtask queue drains). */
const drained = () => new Promise<void>((resolve) => process.nextTick(resolve));

/**
 * A deterministic simulation of a cluster running the shipping code: the
 * real RaftHost (group commit, pending requests, snapshot scheduling), the
 * real write-ahead log on a simulated disk, and the real node link on a
 * simulated network, all in virtual time. One PRNG seeded from the run's seed
 * decides everything: delays, every fault (network, disk, clock, process),
 * client behaviour and membership changes. A failing seed replays exactly.
 */
export class Simulation implements SimWorld {
  readonly seed: number;
  readonly profile: string;
  readonly scenario: Scenario;
  readonly prng: Prng;
  readonly nodes: SimNode[] = [];
  readonly stats: SimStats = emptyStats();
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly digests = new StateDigests();
  private readonly clients: Clients;
  private readonly membership: MembershipController;
  private readonly config: RaftConfig;
  private readonly bugs: BugSwitches | undefined;
  private readonly traceOn: boolean;
  private readonly traceLines: string[] = [];
  private time = 0;
  private faulty = true;
  private failure: Violation | undefined;
  private done = false;
  /** The one node whose disk flips bits and gets wiped (a group survives one lost replica at a time). */
  private readonly flaky: number;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.profile = options.profile ?? 'mixed';
    this.scenario = scenarioFor(options.seed, this.profile, options.scenario);
    this.prng = new Prng(options.seed);
    this.config = validateRaftConfig(this.scenario.raft);
    this.bugs = options.bugs && options.bugs.length > 0 ? bugsForTesting(options.bugs) : undefined;
    this.traceOn = options.trace ?? false;
    this.network = new SimNetwork(this.prng.fork(), this.scenario.network, this, 64 * 1024 * 1024);
    this.clients = new Clients(this);
    this.membership = new MembershipController(this);
    this.flaky = this.prng.int(this.scenario.nodes);
  }

  async run(): Promise<SimResult> {
    try {
      this.setup();
      await this.loop();
      if (!this.failure) this.finalChecks();
    } catch (err) {
      this.failure ??=
        err instanceof Violation
          ? err
          : new Violation('assertion', err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    const failure: SimFailure | null = this.failure
      ? { checker: this.failure.checker, message: this.failure.message, timeMs: this.time }
      : null;
    if (failure) this.trace(`FAILED [${failure.checker}] ${failure.message}`);
    this.stats.virtualMs = Math.round(this.time);
    this.stats.messages = this.network.sent;
    this.stats.messagesDropped = this.network.dropped;
    this.stats.connectionResets = this.network.resets;
    this.stats.elections = this.checker.elections;
    for (const n of this.nodes) this.countFaults(n.disk);
    return {
      seed: this.seed,
      profile: this.profile,
      ok: failure === null,
      failure,
      scenario: describeScenario(this.scenario),
      stats: this.stats,
      trace: this.traceLines,
    };
  }

  // ---------------------------------------------------------------------------
  // The world, as clients, the controller, the network and processes see it

  now(): number {
    return this.time;
  }

  at(at: number, fn: () => void): void {
    this.queue.push(at, { node: -1, epoch: 0, fn });
  }

  atProcess(at: number, node: number, epoch: number, fn: () => void): void {
    this.queue.push(at, { node, epoch, fn });
  }

  atNode(at: number, node: SimNode, fn: (proc: SimProcess) => void): void {
    const proc = node.proc;
    if (!proc?.up) return;
    this.atProcess(at, node.index, proc.epoch, () => {
      if (node.proc === proc) fn(proc);
    });
  }

  epochOf(node: number): number | undefined {
    return this.nodes[node]?.upEpoch();
  }

  deliver(node: number, _from: string, msgs: unknown[]): void {
    this.nodes[node]!.proc?.host.receive(msgs as WireMessage[]);
  }

  protocolError(message: string): void {
    this.violation('assertion', `node link: ${message}`);
  }

  faultsOn(): boolean {
    return this.faulty;
  }

  violation(checker: CheckerName, message: string): void {
    this.failure ??= new Violation(checker, message);
  }

  leaderOf(group: GroupId): { node: SimNode; proc: SimProcess } | undefined {
    let best: { node: SimNode; proc: SimProcess; term: number } | undefined;
    for (const node of this.nodes) {
      const proc = node.proc;
      if (!proc?.up || !proc.host.hosts(group) || !proc.host.isLeader(group)) continue;
      const term = proc.host.status(group)!.term;
      if (!best || term > best.term) best = { node, proc, term };
    }
    return best;
  }

  trace(line: string): void {
    if (!this.traceOn) return;
    if (this.traceLines.length >= TRACE_LINES) this.traceLines.shift();
    this.traceLines.push(`${this.time.toFixed(2).padStart(9)}ms ${line}`);
  }

  // ---------------------------------------------------------------------------
  // Setup and main loop

  private setup(): void {
    const s = this.scenario;
    for (let i = 0; i < s.nodes; i++) {
      const node: SimNode = new SimNode(`n${i + 1}`, i, this, () => this.newDisk());
      this.nodes.push(node);
    }
    const byName = new Map(this.nodes.map((n) => [n.name, n]));
    for (const n of this.nodes) n.peers = byName;
    const members = new Map<GroupId, NodeId[]>();
    for (let g = 0; g < s.groups; g++) {
      members.set(g, this.shuffled(this.nodes.map((n) => n.id)).slice(0, s.replicas));
    }
    for (const n of this.nodes) {
      n.founding = [...members].filter(([, m]) => m.includes(n.id)).map(([g]) => g);
      n.foundingVoters = (g) => members.get(g)!;
      this.startNode(n);
    }
    this.clients.start(s.clients);
    this.at(s.faultRoundMs, () => this.faultRound());
    this.at(100, () => this.controllerRound());
    this.at(s.faultMs, () => this.heal());
    this.at(s.faultMs + s.livenessMs, () => this.failLiveness());
    this.trace(`scenario: ${describeScenario(s)}`);
  }

  private newDisk(): SimDisk {
    const s = this.scenario;
    const disk = new SimDisk(
      this.prng.fork(),
      { minMs: s.diskMinMs, maxMs: s.diskMaxMs },
      (at, epoch, fn) =>
        this.queue.push(at, { node: this.nodes.findIndex((n) => n.disk === disk), epoch, fn }),
      () => this.time,
    );
    disk.faults = { ...s.disk };
    return disk;
  }

  private async loop(): Promise<void> {
    while (!this.done && !this.failure) {
      const next = this.queue.pop();
      if (!next) return;
      if (++this.stats.events > MAX_EVENTS) throw new Violation('liveness', `more than ${MAX_EVENTS} events`);
      if (this.network.bytes > MAX_NETWORK_BYTES) {
        throw new Violation('liveness', `message storm: more than ${MAX_NETWORK_BYTES} bytes sent`);
      }
      const e = next.item;
      if (e.node >= 0) {
        const node = this.nodes[e.node]!;
        if (node.epoch !== e.epoch) continue;
        if (node.pausedUntil > next.time) {
          // A paused process handles nothing until it resumes, then everything in order.
          this.queue.push(node.pausedUntil, e);
          continue;
        }
      }
      this.time = next.time;
      e.fn();
      await drained();
    }
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.prng.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  // ---------------------------------------------------------------------------
  // Node lifecycle

  private processOptions(bootstrap: readonly GroupId[], voters: (g: GroupId) => NodeId[]): ProcessOptions {
    const s = this.scenario;
    return {
      config: this.config,
      tickMs: s.tickMs,
      snapshotEvery: s.snapshotEvery,
      clockRate: 1 + (this.prng.float() * 2 - 1) * s.clockDrift,
      timerJitter: s.timerJitter,
      bugs: this.bugs,
      bootstrap,
      initialVoters: voters,
      observer: (node, proc) => this.observer(node, proc),
      onSend: (node, m) => this.sent(node, m),
      onDurabilityViolation: (message) => this.violation('durability', message),
    };
  }

  /**
   * Starts the node's process. A founding member passes its founding groups at
   * every start, as the server does: a crash before the founding write was
   * durable must not leave it without them (groups already stored, or removed
   * since, are not founded again). A rebuilt node founds nothing.
   */
  private startNode(n: SimNode): void {
    const bootstrap = n.incarnation === 0 ? n.founding : [];
    const started = n.start(this.processOptions(bootstrap, n.foundingVoters), this.prng, this.network);
    this.trace(`${n.id} starting (epoch ${n.epoch})`);
    started.then(
      (proc) => {
        if (proc) this.trace(`${n.id} up with ${proc.host.groups().length} groups`);
      },
      (error: Error) => this.startFailed(n, error),
    );
  }

  /** A node that cannot start: explained damage means a rebuild; a failed disk, a later retry; anything else is a bug. */
  private startFailed(n: SimNode, error: Error): void {
    n.proc = null;
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof WalCorruptionError) {
      const explained = n.disk.damage().some((d) => d.path === error.path && d.offset >= error.offset);
      if (!explained) {
        this.violation(
          'storage_integrity',
          `${n.id} refused to start on damage no fault caused: ${error.message}`,
        );
        return;
      }
      this.stats.corruptionsDetected++;
      n.refused = true;
      this.trace(
        `${n.id} refused to start: ${error.path} at ${error.offset} (${error.reason}); rebuild pending`,
      );
      return;
    }
    if (code === 'EIO' || code === 'ENOSPC') {
      this.trace(`${n.id} could not start (${code}); retrying`);
      n.crash(this.network);
      this.at(this.time + 20 + this.prng.float() * 50, () => this.restartIfDown(n));
      return;
    }
    this.violation('assertion', `${n.id} failed to start: ${error.stack ?? error.message}`);
  }

  private restartIfDown(n: SimNode): void {
    if (n.proc || n.refused) return;
    this.startNode(n);
  }

  private crash(n: SimNode): void {
    if (!n.proc) return;
    n.crash(this.network);
    this.stats.crashes++;
    this.trace(`${n.id} crashed`);
  }

  /** Crashes the node now and restarts it after a while. */
  private crashAndRestart(n: SimNode, downMs?: number): void {
    if (!n.proc?.up) return;
    this.crash(n);
    const s = this.scenario;
    const down = downMs ?? s.downMinMs + this.prng.float() * (s.downMaxMs - s.downMinMs);
    this.at(this.time + down, () => this.restartIfDown(n));
  }

  private countFaults(disk: SimDisk): void {
    this.stats.tornWrites += disk.injected.torn;
    this.stats.shortWrites += disk.injected.short;
    this.stats.ioErrors += disk.injected.eio;
    this.stats.diskFull += disk.injected.enospc;
    this.stats.bitFlips += disk.injected.flips;
  }

  /** The node's disk is lost: it comes back empty, as a new replica, and is added back by the controller. */
  private rebuild(n: SimNode): void {
    if (n.proc) n.crash(this.network);
    this.countFaults(n.disk);
    n.wipe();
    this.stats.wipes++;
    this.trace(`${n.name} rebuilt with an empty disk as ${n.id}`);
    this.startNode(n);
  }

  /**
   * May the flaky node's disk lose data now? Only once the last loss is fully
   * repaired: every node up, and every group led under a committed
   * configuration that names no lost replica. (A group survives one lost
   * replica at a time, not two.)
   */
  private lossAllowed(): boolean {
    if (!this.faulty || this.nodes.some((n) => !n.proc?.up)) return false;
    if (this.membership.moving() || this.lossUnrepaired()) return false;
    for (let g = 0; g < this.scenario.groups; g++) {
      const status = this.leaderOf(g)?.proc.host.status(g);
      if (!status || status.conf_index > status.commit) return false;
      // Mid-move a group may be down to fewer voters than it can afford to lose one of.
      if (status.conf.voters.length < this.scenario.replicas) return false;
    }
    return true;
  }

  /** A lost disk is not yet repaired: the controller must not shrink any group meanwhile. */
  lossUnrepaired(): boolean {
    // Damage a fault left on a disk counts from the moment it is there, before any recovery reads it.
    return (
      this.nodes.some((n) => n.refused || n.disk.damage().length > 0) ||
      this.membership.staleMembers().size > 0
    );
  }

  // ---------------------------------------------------------------------------
  // What the host tells the checkers

  private observer(node: SimNode, proc: SimProcess): HostObserver {
    // Checkers know replicas by their ids, which are never reused.
    const id = (g: GroupId) => proc.host.replicaOf(g) ?? node.id;
    return {
      started: (g, replica, stored) => {
        const sm = proc.machines.get(g)!;
        const snapIndex = stored?.snapshot?.meta.index ?? 0;
        if (stored?.snapshot && sm.applied !== snapIndex) {
          this.violation(
            'snapshot_atomicity',
            `${replica.id} group ${g}: stored snapshot ${snapIndex} holds state applied to ${sm.applied}`,
          );
        }
        this.checker.replicaStarted(
          g,
          replica.id,
          replica.committed,
          replica.applied,
          stored?.hardState?.commit ?? 0,
        );
        if (stored?.snapshot) this.digests.record(g, snapIndex, sm.digest(), replica.id);
      },
      ready: (r, replica) => {
        this.observeReady(node, proc, r, replica);
      },
      applied: (g, e) => {
        const sm = proc.machines.get(g)!;
        sm.advance(e.index);
        this.checker.applied(g, id(g), e);
        if (e.index % 4 === 0) this.digests.record(g, e.index, sm.digest(), id(g));
      },
      restored: (g, snapshot) => {
        const sm = proc.machines.get(g)!;
        this.checker.snapshotInstalled(g, id(g), snapshot.meta, sm.applied);
        this.digests.record(g, snapshot.meta.index, sm.digest(), id(g));
        this.stats.snapshotsInstalled++;
        this.trace(`${id(g)} group ${g} installed snapshot ${snapshot.meta.index}@${snapshot.meta.term}`);
      },
    };
  }

  /** Safety checks on what a replica just decided, and faults aimed at the worst moments. */
  private observeReady(node: SimNode, proc: SimProcess, r: Ready, replica: RaftNode): void {
    const g = r.group;
    const s = this.scenario;
    const id = replica.id;
    if (r.soft_state?.role === 'leader') {
      this.trace(`${id} group ${g} leader at term ${r.soft_state.term}`);
      this.checker.leaderElected(g, id, r.soft_state.term, replica);
      if (this.faulty && this.prng.chance(s.leaderCrashRate)) {
        this.at(this.time + this.prng.float() * 30, () => this.crashAndRestart(node));
      }
      if (this.faulty && this.prng.chance(s.leaderIsolateRate)) {
        this.at(this.time + this.prng.float() * 2, () => this.isolate(node));
      }
    }
    if (r.entries.length > 0) this.checker.entriesAppended(g, id, r.entries, replica);
    if (r.snapshot?.mode === 'compact') this.stats.compactions++;
    if (r.hard_state) {
      this.checker.committed(g, id, r.hard_state.commit, r.hard_state.term, replica);
      if (proc.host.isLeader(g) && this.faulty && this.prng.chance(s.commitIsolateRate)) this.isolate(node);
    }
    if (r.ack) this.stats.writes++;
  }

  /** Crashing right after a node promised something durable (granted a vote, acknowledged entries) is the worst moment. */
  private sent(node: SimNode, m: WireMessage): void {
    const promise = (m.type === 'vote_resp' || m.type === 'app_resp') && !m.reject;
    if (
      promise &&
      this.faulty &&
      this.scenario.promiseCrashRate > 0 &&
      this.prng.chance(this.scenario.promiseCrashRate)
    ) {
      this.at(this.time + this.prng.float() * 3, () => this.crashAndRestart(node));
    }
  }

  // ---------------------------------------------------------------------------
  // Faults

  private faultRound(): void {
    if (!this.faulty) return;
    const s = this.scenario;
    const p = this.prng;
    const up = () => this.nodes.filter((n) => n.proc?.up);
    if (p.chance(s.crashRate)) {
      const alive = up();
      if (alive.length > 0) this.crashAndRestart(p.pick(alive));
    }
    if (p.chance(s.powerLossRate)) {
      const alive = up();
      const count = p.chance(0.5) ? alive.length : Math.floor(this.nodes.length / 2) + 1;
      const victims = this.shuffled(alive).slice(0, count);
      this.trace(`power loss: ${victims.map((v) => v.id).join(',')}`);
      for (const v of victims) this.crashAndRestart(v);
    }
    if (p.chance(s.partitionRate)) this.partitionRound();
    else if (p.chance(0.1)) {
      this.network.heal();
      this.trace('network healed');
    }
    if (p.chance(s.connectionResetRate)) this.network.resetOne();
    if (p.chance(s.pauseRate)) {
      const alive = up();
      if (alive.length > 0) {
        const n = p.pick(alive);
        n.pausedUntil = this.time + p.float() * s.pauseMaxMs;
        this.stats.pauses++;
        this.trace(`${n.id} paused until ${n.pausedUntil.toFixed(1)}ms`);
      }
    }
    if (p.chance(s.diskFullRate)) {
      const n = p.pick(this.nodes);
      n.disk.capacity = n.disk.used() + p.int(512);
      this.trace(`${n.name}: disk full`);
      this.at(this.time + 50 + p.float() * 300, () => {
        n.disk.capacity = Number.POSITIVE_INFINITY;
      });
    }
    this.storageLossRound();
    this.at(this.time + s.faultRoundMs, () => this.faultRound());
  }

  /** Bit flips and wiped disks, on one node only and one loss at a time (a group survives one lost replica). */
  private storageLossRound(): void {
    const s = this.scenario;
    const p = this.prng;
    const n = this.nodes[this.flaky]!;
    const allowed = this.lossAllowed();
    n.disk.faults = { ...n.disk.faults, writtenBitFlip: allowed ? s.bitFlipWritten : 0 };
    if (!allowed) return;
    if (p.chance(s.bitFlipAtRest)) {
      // Data at rest decays; the next recovery reads it.
      const d = n.disk.flipAtRest();
      if (d) this.trace(`${n.name}: bit flipped at rest in ${d.path} at ${d.offset}`);
      this.crashAndRestart(n);
    } else if (p.chance(s.wipeRate)) {
      this.trace(`${n.id}: disk lost`);
      this.rebuild(n);
    }
  }

  private partitionRound(): void {
    const p = this.prng;
    this.stats.partitions++;
    const ids = this.shuffled(this.nodes.map((n) => n.index));
    const r = p.float();
    if (p.chance(0.5)) this.network.heal();
    if (r < 0.3) {
      this.network.partition([[ids[0]!], ids.slice(1)]);
      this.trace(`partition: ${this.nodes[ids[0]!]!.id} isolated`);
    } else if (r < 0.6) {
      const cut = 1 + p.int(ids.length - 1);
      this.network.partition([ids.slice(0, cut), ids.slice(cut)]);
      this.trace(`partition: ${ids.slice(0, cut).join(',')} | ${ids.slice(cut).join(',')}`);
    } else {
      const links = 1 + p.int(3);
      for (let i = 0; i < links; i++) {
        const a = p.pick(ids);
        const b = p.pick(ids);
        if (a !== b) {
          this.network.blockOneWay(a, b);
          this.trace(`partition: one-way ${this.nodes[a]!.id} -> ${this.nodes[b]!.id}`);
        }
      }
    }
  }

  isolateSoon(node: SimNode): void {
    this.at(this.time + this.prng.float() * 2, () => this.isolate(node));
  }

  /** Cuts a node off for a short while (targeted at leaders at critical moments). */
  private isolate(n: SimNode): void {
    if (!this.faulty) return;
    const others = this.nodes.filter((x) => x !== n).map((x) => x.index);
    this.network.partition([[n.index], others]);
    this.stats.partitions++;
    this.trace(`partition: leader ${n.id} isolated`);
    this.at(this.time + 100 + this.prng.float() * 300, () => {
      if (this.faulty) this.network.reconnect(n.index);
    });
  }

  /** A node whose storage failed (an injected disk error) is restarted, as a supervisor would; faults or not. */
  private supervise(): void {
    for (const n of this.nodes) {
      const failure = n.proc?.up ? n.proc.host.failure() : undefined;
      if (!failure) continue;
      const code = (failure as NodeJS.ErrnoException).code;
      if (code !== 'EIO' && code !== 'ENOSPC') {
        this.violation(
          'assertion',
          `${n.id}: storage failed without an injected fault: ${failure.stack ?? failure.message}`,
        );
        return;
      }
      this.stats.storageFailures++;
      this.trace(`${n.id} storage failed (${code}); restarting`);
      this.crashAndRestart(n, 10 + this.prng.float() * 40);
    }
  }

  private controllerRound(): void {
    this.supervise();
    this.membership.round();
    // A node that refused to start on damaged storage is rebuilt from its peers: its data is lost anyway.
    for (const n of this.nodes) if (n.refused) this.rebuild(n);
    if (this.settled()) {
      this.done = true;
      return;
    }
    this.at(this.time + 50, () => this.controllerRound());
  }

  /** The fault phase ends: heal everything, restart everyone, and require progress. */
  private heal(): void {
    this.faulty = false;
    this.network.heal();
    this.network.faults = CALM_NETWORK;
    for (const n of this.nodes) {
      n.pausedUntil = 0;
      n.disk.faults = NO_DISK_FAULTS;
      n.disk.capacity = Number.POSITIVE_INFINITY;
      if (!n.proc && !n.refused) this.startNode(n);
    }
    this.trace('faults stop: network healed, all nodes up; liveness probes start');
    this.clients.startProbes(this.scenario.activeGroups);
  }

  // ---------------------------------------------------------------------------
  // End of run

  /** After the faults stop: every probe committed, every client idle, every replica caught up. */
  private settled(): boolean {
    if (this.faulty || !this.clients.idle() || this.membership.busy()) return false;
    if (this.nodes.some((n) => !n.proc?.up)) return false;
    for (let g = 0; g < this.scenario.groups; g++) if (this.lagging(g)) return false;
    return true;
  }

  /** Why a group has not converged, or undefined when it has. */
  private lagging(g: GroupId): string | undefined {
    const l = this.leaderOf(g);
    if (!l) return `group ${g} has no leader`;
    const status = l.proc.host.status(g)!;
    for (const id of [...status.conf.voters, ...status.conf.learners]) {
      const n = this.nodes.find((x) => x.id === nodeOfReplica(id));
      const host = n?.proc?.up ? n.proc.host : undefined;
      const applied = host?.replicaOf(g) === id ? host.status(g)!.applied : undefined;
      if (applied === undefined || applied < status.commit) {
        return `group ${g}: ${id} applied ${applied ?? 'nothing'} of ${status.commit}`;
      }
    }
    return undefined;
  }

  private failLiveness(): void {
    if (this.done) return;
    const s = this.scenario;
    const probes = this.clients.pendingProbes();
    if (probes.length > 0) {
      this.violation(
        'liveness',
        `group ${probes[0]} did not commit a proposal within ${s.livenessMs}ms after faults stopped`,
      );
    }
    for (let g = 0; g < s.groups && !this.failure; g++) {
      const why = this.lagging(g);
      if (why) {
        const l = this.leaderOf(g);
        if (l)
          this.trace(
            `group ${g} leader ${l.node.id} progress: ${JSON.stringify(l.proc.host.status(g)!.progress)}`,
          );
        for (const n of this.nodes) {
          const st = n.proc?.up && n.proc.host.hosts(g) ? n.proc.host.status(g)! : undefined;
          if (st)
            this.trace(
              `group ${g} ${n.id}: ${st.role} term ${st.term} lead ${st.lead} commit ${st.commit} applied ${st.applied} last ${st.last_index} snap ${st.snapshot_index}`,
            );
        }
        this.violation('liveness', `${why} ${s.livenessMs}ms after faults stopped`);
      }
    }
    const down = this.nodes.filter((n) => !n.proc?.up);
    if (!this.failure && down.length > 0) {
      this.violation(
        'liveness',
        `${down.map((n) => n.id).join(', ')} not up ${s.livenessMs}ms after faults stopped`,
      );
    }
    // Clients still retrying when time ran out: their outcome stays unknown.
    this.done = true;
  }

  private finalChecks(): void {
    const logs = new Map<GroupId, string[][]>();
    for (const n of this.nodes) {
      if (!n.proc?.up) continue;
      for (const [g, sm] of n.proc.machines) {
        if (!n.proc.host.hosts(g)) continue;
        let l = logs.get(g);
        if (!l) {
          l = [];
          logs.set(g, l);
        }
        l.push(sm.log);
      }
    }
    checkHistory(this.clients.history, logs);
    for (let g = 0; g < this.scenario.groups; g++) {
      const l = this.leaderOf(g);
      const leader = l?.proc.host.replicaOf(g);
      if (l && leader && !isMember(l.proc.host.status(g)!.conf, leader)) {
        throw new Violation('assertion', `group ${g} is led by ${leader}, which is not a member`);
      }
    }
  }
}

export async function runSeed(seed: number, options: Omit<SimOptions, 'seed'> = {}): Promise<SimResult> {
  return new Simulation({ seed, ...options }).run();
}
