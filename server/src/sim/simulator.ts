import { type BugName, type BugSwitches, bugsForTesting } from '../raft/bugs.js';
import { isMember } from '../raft/conf.js';
import { type RaftConfig, validateRaftConfig } from '../raft/config.js';
import type { GroupId, NodeId, WireMessage } from '../raft/index.js';
import { Prng } from '../raft/prng.js';
import { WalCorruptionError } from '../replication/storage/wal-errors.js';
import { type CheckerName, SafetyChecker, StateDigests, Violation } from './checkers.js';
import { Clients } from './clients.js';
import { EventQueue } from './event-queue.js';
import { FaultInjector } from './faults.js';
import { checkHistory } from './history.js';
import { LivenessWatch } from './liveness.js';
import { MembershipController } from './membership.js';
import { type ObservedWorld, RunObserver } from './observer.js';
import { describeScenario, type Scenario, scenarioFor } from './scenario.js';
import { NO_DISK_FAULTS, SimDisk } from './sim-disk.js';
import { CALM_NETWORK, SimNetwork } from './sim-network.js';
import { type ProcessOptions, SimNode, type SimProcess } from './sim-node.js';
import { emptyStats, type SimStats } from './world.js';

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
export class Simulation implements ObservedWorld {
  readonly seed: number;
  readonly profile: string;
  readonly scenario: Scenario;
  readonly prng: Prng;
  readonly nodes: SimNode[] = [];
  readonly stats: SimStats = emptyStats();
  private readonly queue = new EventQueue<SimEvent>();
  readonly network: SimNetwork;
  private readonly faults: FaultInjector;
  private readonly observer: RunObserver;
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
  private readonly liveness: LivenessWatch;
  readonly flaky: number;

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
    this.faults = new FaultInjector(this);
    this.observer = new RunObserver(this, this.checker, this.digests);
    this.liveness = new LivenessWatch({
      scenario: this.scenario,
      nodes: this.nodes,
      now: () => this.time,
      at: (t, fn) => this.at(t, fn),
      trace: (line) => this.trace(line),
      violation: (checker, message) => this.violation(checker, message),
      failed: () => this.failure !== undefined,
      ended: () => this.done,
      end: () => {
        this.done = true;
      },
      leaderOf: (g) => this.leaderOf(g),
      pendingProbes: () => this.clients.pendingProbes(),
    });
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
    this.liveness.schedule();
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

  shuffled<T>(items: readonly T[]): T[] {
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
      observer: (node, proc) => this.observer.host(node, proc),
      onSend: (node, m) => this.observer.sent(node, m),
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
  crashAndRestart(n: SimNode, downMs?: number): void {
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
  rebuild(n: SimNode): void {
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
  lossAllowed(): boolean {
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
  // Faults

  private faultRound(): void {
    if (!this.faulty) return;
    this.faults.round();
    this.at(this.time + this.scenario.faultRoundMs, () => this.faultRound());
  }

  isolateNow(node: SimNode): void {
    this.faults.isolate(node);
  }

  isolateSoon(node: SimNode): void {
    this.at(this.time + this.prng.float() * 2, () => this.faults.isolate(node));
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
    for (let g = 0; g < this.scenario.groups; g++) if (this.liveness.lagging(g)) return false;
    return true;
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
