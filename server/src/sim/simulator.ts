import { type BugName, bugsForTesting } from '../raft/bugs.js';
import { isMember, isVoter } from '../raft/conf.js';
import { type RaftConfig, validateRaftConfig } from '../raft/config.js';
import { MultiRaft, type MultiReady, type WireMessage } from '../raft/multi-raft.js';
import { Prng } from '../raft/prng.js';
import { initialGroupState, type RaftNode, type RaftStatus } from '../raft/raft-node.js';
import type { ConfChange, GroupId, NodeId, Ready } from '../raft/types.js';
import { crc32 } from '../util/checksum.js';
import { type CheckerName, SafetyChecker, Violation } from './checkers.js';
import { EventQueue } from './event-queue.js';
import { type ClientOp, checkHistory } from './history.js';
import { CALM_NETWORK, SimNetwork } from './network.js';
import { describeScenario, PROFILES, type Scenario, scenarioFor } from './scenario.js';
import { SimDisk } from './sim-storage.js';
import { encodeOp, SimStateMachine } from './state-machine.js';

export interface SimOptions {
  readonly seed: number;
  /** Test-only: re-introduce classic Raft bugs into every replica. */
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

export interface SimStats {
  events: number;
  virtualMs: number;
  messages: number;
  messagesDropped: number;
  elections: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  transfers: number;
  snapshotsInstalled: number;
  compactions: number;
  writes: number;
  opsAcked: number;
  opsUnknown: number;
  readsAcked: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure: SimFailure | null;
  readonly scenario: string;
  readonly stats: SimStats;
  readonly trace: readonly string[];
}

type ClientReply =
  | { kind: 'ok'; value: string | null; result: number }
  | { kind: 'redirect'; leader: NodeId | null }
  | { kind: 'retry' };

interface ClientRequest {
  readonly client: number;
  readonly op: ClientOp;
  readonly attempt: number;
}

type SimEvent =
  | { kind: 'tick'; node: number; epoch: number }
  | { kind: 'turn'; node: number; epoch: number }
  | { kind: 'disk'; node: number; epoch: number; write: number }
  | { kind: 'deliver'; node: number; msg: WireMessage }
  | { kind: 'client_req'; node: number; req: ClientRequest }
  | { kind: 'client_reply'; client: number; opId: string; attempt: number; reply: ClientReply }
  | { kind: 'client_timeout'; client: number; opId: string; attempt: number }
  | { kind: 'client_next'; client: number }
  | { kind: 'fault' }
  | { kind: 'crash'; node: number; epoch: number }
  | { kind: 'restart'; node: number }
  | { kind: 'isolate'; node: number }
  | { kind: 'reconnect'; node: number }
  | { kind: 'controller' }
  | { kind: 'heal' }
  | { kind: 'deadline' };

interface SimNode {
  readonly id: NodeId;
  readonly index: number;
  alive: boolean;
  epoch: number;
  multi: MultiRaft | null;
  readonly disk: SimDisk;
  diskFreeAt: number;
  readonly sms: Map<GroupId, SimStateMachine>;
  readonly proposals: Map<GroupId, Map<number, { term: number; req: ClientRequest }>>;
  readonly reads: Map<string, { req: ClientRequest; group: GroupId }>;
  turnScheduled: boolean;
  readCounter: number;
}

interface SimClient {
  readonly id: number;
  current: ClientOp | null;
  attempt: number;
  readonly hints: Map<GroupId, NodeId>;
  /** A liveness probe client serves one group and never gives up before the deadline. */
  readonly probeGroup: GroupId | null;
}

interface Move {
  phase: 'add' | 'promote' | 'remove' | 'destroy';
  target: NodeId;
  victim: NodeId;
  /** Three-node clusters have no spare node: remove a voter, then add it back (from empty). */
  readonly readd: boolean;
}

const ATTEMPT_TIMEOUT_MS = 250;
const MAX_ATTEMPTS = 12;
const MAX_EVENTS = 3_000_000;
const TRACE_LINES = 4000;

/**
 * A deterministic simulation of a cluster running the real Raft core: virtual
 * time, a faulty network, crashing nodes with asynchronous disks, membership
 * changes, compaction and snapshots, and clients whose history is checked at
 * the end. One PRNG, seeded from the run's seed, decides everything.
 */
export class Simulation {
  readonly seed: number;
  private readonly scenario: Scenario;
  private readonly prng: Prng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly nodes: SimNode[] = [];
  private readonly clients: SimClient[] = [];
  private readonly history: ClientOp[] = [];
  private readonly moves = new Map<GroupId, Move>();
  private readonly everMoved = new Set<GroupId>();
  private readonly config: RaftConfig;
  private readonly bugs: readonly BugName[];
  private readonly traceOn: boolean;
  private readonly traceLines: string[] = [];
  private now = 0;
  private faultsOn = true;
  private faultEnd: number;
  private deadline: number;
  private opCounter = 0;
  private readonly stats: SimStats = {
    events: 0,
    virtualMs: 0,
    messages: 0,
    messagesDropped: 0,
    elections: 0,
    crashes: 0,
    partitions: 0,
    confChanges: 0,
    transfers: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    writes: 0,
    opsAcked: 0,
    opsUnknown: 0,
    readsAcked: 0,
  };

  constructor(options: SimOptions) {
    this.seed = options.seed;
    const profile = PROFILES[options.profile ?? 'mixed'];
    if (!profile)
      throw new Error(`unknown profile ${options.profile}; one of ${Object.keys(PROFILES).join(', ')}`);
    const over = options.scenario ?? {};
    this.scenario = scenarioFor(options.seed, {
      ...profile,
      ...over,
      raft: { ...profile.raft, ...over.raft },
    });
    this.prng = new Prng(options.seed);
    this.network = new SimNetwork(this.prng.fork(), this.scenario.network);
    this.config = validateRaftConfig(this.scenario.raft);
    this.bugs = options.bugs ?? [];
    this.traceOn = options.trace ?? false;
    this.faultEnd = this.scenario.faultMs;
    this.deadline = this.scenario.faultMs + this.scenario.livenessMs;
  }

  run(): SimResult {
    let failure: SimFailure | null = null;
    try {
      this.setup();
      this.loop();
      this.finalChecks();
    } catch (err) {
      if (err instanceof Violation)
        failure = { checker: err.checker, message: err.message, timeMs: this.now };
      else {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        failure = { checker: 'assertion', message, timeMs: this.now };
      }
      this.trace(`FAILED [${failure.checker}] ${failure.message}`);
    }
    this.stats.virtualMs = Math.round(this.now);
    this.stats.messages = this.network.sent;
    this.stats.messagesDropped = this.network.dropped;
    this.stats.elections = this.checker.elections;
    return {
      seed: this.seed,
      ok: failure === null,
      failure,
      scenario: describeScenario(this.scenario),
      stats: this.stats,
      trace: this.traceLines,
    };
  }

  // ---------------------------------------------------------------------------
  // Setup and main loop

  private setup(): void {
    const s = this.scenario;
    for (let i = 0; i < s.nodes; i++) {
      this.nodes.push({
        id: `n${i + 1}`,
        index: i,
        alive: false,
        epoch: 0,
        multi: null,
        disk: new SimDisk(),
        diskFreeAt: 0,
        sms: new Map(),
        proposals: new Map(),
        reads: new Map(),
        turnScheduled: false,
        readCounter: 0,
      });
    }
    const initial = new SimStateMachine();
    initial.applied = 1;
    const initialData = initial.snapshot();
    for (let g = 0; g < s.groups; g++) {
      const members = this.shuffled(this.nodes.map((n) => n.id)).slice(0, s.replicas);
      const state = initialGroupState(
        { voters: members, learners: [] },
        { data: initialData, checksum: crc32(initialData) },
      );
      for (const id of members) this.node(id).disk.bootstrap(g, state);
    }
    for (const n of this.nodes) this.start(n);
    for (let c = 0; c < s.clients; c++) {
      const client: SimClient = { id: c, current: null, attempt: 0, hints: new Map(), probeGroup: null };
      this.clients.push(client);
      this.at(this.prng.float() * 20, { kind: 'client_next', client: c });
    }
    this.at(s.faultRoundMs, { kind: 'fault' });
    this.at(100, { kind: 'controller' });
    this.at(this.faultEnd, { kind: 'heal' });
    this.at(this.deadline, { kind: 'deadline' });
    this.trace(`scenario: ${describeScenario(s)}`);
  }

  private loop(): void {
    for (;;) {
      const next = this.queue.pop();
      if (!next) return;
      if (++this.stats.events > MAX_EVENTS) throw new Violation('liveness', `more than ${MAX_EVENTS} events`);
      this.now = next.time;
      if (this.handle(next.item)) return;
    }
  }

  /** Returns true when the run is over. */
  private handle(e: SimEvent): boolean {
    switch (e.kind) {
      case 'tick': {
        const n = this.nodes[e.node]!;
        if (!n.alive || n.epoch !== e.epoch) return false;
        n.multi!.tick();
        this.scheduleTurn(n);
        this.at(this.now + this.scenario.tickMs, e);
        return false;
      }
      case 'turn': {
        const n = this.nodes[e.node]!;
        if (!n.alive || n.epoch !== e.epoch) return false;
        n.turnScheduled = false;
        this.turn(n);
        return false;
      }
      case 'disk': {
        const n = this.nodes[e.node]!;
        if (!n.alive || n.epoch !== e.epoch) return false;
        const acks = n.disk.complete(e.write);
        if (this.traceOn) {
          for (const a of acks)
            this.trace(
              `${n.id} group ${a.group} durable: term ${a.term} vote ${a.vote} log ${a.log_index}@${a.log_term}`,
            );
        }
        n.multi!.persisted(acks);
        this.scheduleTurn(n);
        return false;
      }
      case 'deliver': {
        const n = this.nodes[e.node]!;
        // A link that went down while the message was in flight loses it.
        if (!n.alive || this.network.isBlocked(e.msg.from, e.msg.to)) return false;
        n.multi!.step(e.msg);
        this.scheduleTurn(n);
        return false;
      }
      case 'client_req':
        this.serveClient(this.nodes[e.node]!, e.req);
        return false;
      case 'client_reply':
        this.clientReply(this.clients[e.client]!, e.opId, e.attempt, e.reply);
        return false;
      case 'client_timeout': {
        const c = this.clients[e.client]!;
        if (c.current?.id === e.opId && c.attempt === e.attempt) this.sendAttempt(c);
        return false;
      }
      case 'client_next':
        this.nextOp(this.clients[e.client]!);
        return false;
      case 'fault':
        if (!this.faultsOn) return false;
        this.faultRound();
        this.at(this.now + this.scenario.faultRoundMs, e);
        return false;
      case 'crash': {
        const n = this.nodes[e.node]!;
        if (!n.alive || n.epoch !== e.epoch || !this.faultsOn) return false;
        this.crash(n);
        const s = this.scenario;
        this.at(this.now + s.downMinMs + this.prng.float() * (s.downMaxMs - s.downMinMs), {
          kind: 'restart',
          node: n.index,
        });
        return false;
      }
      case 'reconnect':
        if (this.faultsOn) {
          this.network.reconnect(this.nodes[e.node]!.id);
          this.trace(`${this.nodes[e.node]!.id} reconnected`);
        }
        return false;
      case 'isolate':
        if (this.faultsOn) this.isolate(this.nodes[e.node]!);
        return false;
      case 'restart': {
        const n = this.nodes[e.node]!;
        if (!n.alive) this.start(n);
        return false;
      }
      case 'controller':
        this.controllerRound();
        this.at(this.now + 50, e);
        return this.settled();
      case 'heal':
        this.heal();
        return false;
      case 'deadline':
        this.failLiveness();
        return true;
    }
  }

  private at(time: number, e: SimEvent): void {
    this.queue.push(time, e);
  }

  private node(id: NodeId): SimNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`unknown node ${id}`);
    return n;
  }

  private trace(line: string): void {
    if (!this.traceOn) return;
    if (this.traceLines.length >= TRACE_LINES) this.traceLines.shift();
    this.traceLines.push(`${this.now.toFixed(2).padStart(9)}ms ${line}`);
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
  // Node lifecycle and the driver loop

  private start(n: SimNode): void {
    n.alive = true;
    n.epoch++;
    n.turnScheduled = false;
    n.diskFreeAt = this.now;
    const multi = new MultiRaft({
      id: n.id,
      config: this.config,
      prng: this.prng.fork(),
      checksum: crc32,
      ...(this.bugs.length > 0 && { bugs: bugsForTesting(this.bugs) }),
    });
    n.multi = multi;
    for (const g of n.disk.groups()) {
      const stored = n.disk.load(g);
      const created = multi.createGroup(g, { storage: stored });
      if (!created.ok) throw new Error(created.error.message);
      const sm = stored.snapshot ? SimStateMachine.restore(stored.snapshot.data) : new SimStateMachine();
      if (stored.snapshot && sm.applied !== stored.snapshot.meta.index) {
        throw new Violation(
          'snapshot_atomicity',
          `${n.id} group ${g}: stored snapshot ${stored.snapshot.meta.index} holds state applied to ${sm.applied}`,
        );
      }
      n.sms.set(g, sm);
      const raft = multi.node(g)!;
      this.checker.replicaStarted(g, n.id, raft.committed, raft.applied, stored.hard_state?.commit ?? 0);
    }
    this.trace(`${n.id} started (epoch ${n.epoch}) with ${n.disk.groups().length} groups`);
    this.at(this.now + this.prng.float() * this.scenario.tickMs, {
      kind: 'tick',
      node: n.index,
      epoch: n.epoch,
    });
    this.scheduleTurn(n);
  }

  private crash(n: SimNode): void {
    n.alive = false;
    n.epoch++;
    n.multi = null;
    n.disk.crash();
    n.sms.clear();
    n.proposals.clear();
    n.reads.clear();
    this.stats.crashes++;
    this.trace(`${n.id} crashed`);
  }

  /** Crashes the node within `withinMs` (unless it crashes anyway), and restarts it soon after. */
  private crashSoon(n: SimNode, withinMs: number): void {
    this.at(this.now + this.prng.float() * withinMs, { kind: 'crash', node: n.index, epoch: n.epoch });
  }

  /** Cuts a node off for a short while (targeted at leaders at critical moments). */
  private isolate(n: SimNode): void {
    const others = this.nodes.map((x) => x.id).filter((x) => x !== n.id);
    this.network.partition([[n.id], others]);
    this.stats.partitions++;
    this.trace(`partition: leader ${n.id} isolated`);
    this.at(this.now + 100 + this.prng.float() * 300, { kind: 'reconnect', node: n.index });
  }

  private scheduleTurn(n: SimNode): void {
    if (n.turnScheduled || !n.alive) return;
    n.turnScheduled = true;
    // Inputs arriving within this window are handled in one turn: one write, one send pass.
    this.at(this.now + this.prng.float() * 0.5, { kind: 'turn', node: n.index, epoch: n.epoch });
  }

  private turn(n: SimNode): void {
    const multi = n.multi!;
    for (let i = 0; i < 8 && multi.hasReady(); i++) this.process(n, multi.ready());
    if (multi.hasReady()) this.scheduleTurn(n);
  }

  /** The driver: persist (asynchronously), send, then apply, as the README prescribes. */
  private process(n: SimNode, mr: MultiReady): void {
    const multi = n.multi!;
    for (const r of mr.readies) this.observe(n, r, multi.node(r.group)!);

    const write = n.disk.submit(mr.readies);
    if (write > 0) {
      this.stats.writes++;
      const s = this.scenario;
      const done = Math.max(
        n.diskFreeAt,
        this.now + s.diskMinMs + this.prng.float() * (s.diskMaxMs - s.diskMinMs),
      );
      n.diskFreeAt = done;
      this.at(done, { kind: 'disk', node: n.index, epoch: n.epoch, write });
    }

    for (const m of mr.messages) {
      const to = this.node(m.to);
      if (
        this.faultsOn &&
        this.scenario.promiseCrashRate > 0 &&
        isPromise(m) &&
        this.prng.chance(this.scenario.promiseCrashRate)
      ) {
        this.crashSoon(n, 3);
      }
      if (
        this.traceOn &&
        m.type !== 'heartbeat_batch' &&
        m.type !== 'app' &&
        m.type !== 'app_resp' &&
        m.type !== 'snap_resp'
      ) {
        this.trace(
          `${m.from} -> ${m.to} group ${m.group} ${m.type} term ${m.term}${'reject' in m ? ` reject ${String(m.reject)}` : ''}`,
        );
      }
      for (const d of this.network.route(m.from, m.to))
        this.at(this.now + d, { kind: 'deliver', node: to.index, msg: m });
    }

    for (const r of mr.readies) this.apply(n, r);
  }

  /** Safety checks on what a replica just decided. */
  private observe(n: SimNode, r: Ready, raft: RaftNode): void {
    const g = r.group;
    if (r.soft_state) {
      if (r.soft_state.role === 'leader') {
        this.trace(`${n.id} group ${g} leader at term ${r.soft_state.term}`);
        this.checker.leaderElected(g, n.id, r.soft_state.term, raft);
        if (this.faultsOn && this.prng.chance(this.scenario.leaderCrashRate)) this.crashSoon(n, 30);
        if (this.faultsOn && this.prng.chance(this.scenario.leaderIsolateRate)) {
          this.at(this.now + this.prng.float() * 2, { kind: 'isolate', node: n.index });
        }
      }
    }
    if (r.entries.length > 0) {
      this.checker.entriesAppended(g, n.id, r.entries, raft);
      for (const e of r.entries) {
        if (e.type === 'conf_change')
          this.trace(`${n.id} group ${g} appended conf change at ${e.index}@${e.term}`);
      }
    }
    if (r.hard_state) {
      this.checker.committed(g, n.id, r.hard_state.commit, r.hard_state.term, raft);
      if (raft.role === 'leader' && this.faultsOn && this.prng.chance(this.scenario.commitIsolateRate)) {
        this.isolate(n);
      }
    }
  }

  private apply(n: SimNode, r: Ready): void {
    const g = r.group;
    const multi = n.multi!;
    if (r.snapshot?.mode === 'install') {
      const meta = r.snapshot.snapshot.meta;
      const sm = SimStateMachine.restore(r.snapshot.snapshot.data);
      this.checker.snapshotInstalled(g, n.id, meta, sm.applied);
      n.sms.set(g, sm);
      this.stats.snapshotsInstalled++;
      this.trace(`${n.id} group ${g} installed snapshot ${meta.index}@${meta.term}`);
      const pending = n.proposals.get(g);
      if (pending) for (const idx of [...pending.keys()]) if (idx <= meta.index) pending.delete(idx);
    }
    const sm = n.sms.get(g);
    if (!sm) throw new Error(`${n.id} group ${g} has no state machine`);
    const pending = n.proposals.get(g);
    for (const e of r.committed_entries) {
      this.checker.applied(g, n.id, e);
      const out = sm.apply(e);
      const p = pending?.get(e.index);
      if (p) {
        pending!.delete(e.index);
        if (p.term === e.term && out !== null && out.op.id === p.req.op.id) {
          this.reply(p.req, { kind: 'ok', value: null, result: out.result });
        } else {
          this.reply(p.req, { kind: 'retry' });
        }
      }
    }
    for (const rs of r.read_states) {
      const pr = n.reads.get(rs.ctx);
      if (!pr) continue;
      n.reads.delete(rs.ctx);
      const op = pr.req.op;
      if (op.kind === 'get') this.reply(pr.req, { kind: 'ok', value: sm.kv.get(op.key) ?? null, result: 0 });
      else this.reply(pr.req, { kind: 'ok', value: null, result: sm.log.length });
    }
    const raft = multi.node(g)!;
    if (
      sm.applied - raft.log.snapshot.meta.index >= this.scenario.compactEvery &&
      sm.applied === raft.applied
    ) {
      const data = sm.snapshot();
      if (multi.compact(g, sm.applied, data, crc32(data)).ok) {
        this.stats.compactions++;
        this.trace(`${n.id} group ${g} compacted at ${sm.applied}`);
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Clients

  private nextOp(c: SimClient): void {
    if (c.current !== null) return;
    if (c.probeGroup === null && !this.faultsOn) return;
    const s = this.scenario;
    const group = c.probeGroup ?? this.prng.int(s.activeGroups);
    const id = `c${c.id}-${++this.opCounter}`;
    let kind: ClientOp['kind'];
    if (c.probeGroup !== null) kind = 'probe';
    else {
      const r = this.prng.float();
      kind = r < 0.35 ? 'put' : r < 0.65 ? 'get' : r < 0.9 ? 'append' : 'read_log';
    }
    const op: ClientOp = {
      id,
      client: c.id,
      group,
      kind,
      key: `k${this.prng.int(s.keys)}`,
      value: kind === 'put' ? id : null,
      invoke: this.now,
      complete: Number.POSITIVE_INFINITY,
      acked: false,
      result: -1,
    };
    this.history.push(op);
    c.current = op;
    c.attempt = 0;
    this.sendAttempt(c);
  }

  private sendAttempt(c: SimClient): void {
    const op = c.current!;
    if (c.attempt >= MAX_ATTEMPTS && c.probeGroup === null) {
      this.finishOp(c, false);
      return;
    }
    c.attempt++;
    const hint = c.hints.get(op.group);
    const target = hint !== undefined && this.prng.chance(0.8) ? this.node(hint) : this.prng.pick(this.nodes);
    const req: ClientRequest = { client: c.id, op, attempt: c.attempt };
    if (!this.prng.chance(this.faultsOn ? this.scenario.network.drop : 0)) {
      this.at(this.now + 0.2 + this.prng.float() * 2, { kind: 'client_req', node: target.index, req });
    }
    this.at(this.now + ATTEMPT_TIMEOUT_MS, {
      kind: 'client_timeout',
      client: c.id,
      opId: op.id,
      attempt: c.attempt,
    });
  }

  private finishOp(c: SimClient, acked: boolean): void {
    const op = c.current!;
    if (acked) {
      op.acked = true;
      op.complete = this.now;
      if (op.kind === 'get' || op.kind === 'read_log') this.stats.readsAcked++;
      else this.stats.opsAcked++;
    } else {
      this.stats.opsUnknown++;
    }
    c.current = null;
    // A liveness probe is a single operation.
    if (c.probeGroup !== null) return;
    this.at(this.now + this.prng.float() * this.scenario.clientThinkMaxMs, {
      kind: 'client_next',
      client: c.id,
    });
  }

  private clientReply(c: SimClient, opId: string, attempt: number, reply: ClientReply): void {
    const op = c.current;
    if (op === null || op.id !== opId) return;
    if (reply.kind === 'ok') {
      // Any attempt's success is the operation's: retries share the id and apply at most once.
      if (op.kind === 'get') op.value = reply.value;
      op.result = reply.result;
      this.finishOp(c, true);
      if (c.probeGroup !== null) this.trace(`liveness probe for group ${c.probeGroup} committed`);
      return;
    }
    if (attempt !== c.attempt) return;
    if (reply.kind === 'redirect' && reply.leader !== null) c.hints.set(op.group, reply.leader);
    else c.hints.delete(op.group);
    const backoff = reply.kind === 'redirect' && reply.leader !== null ? 1 : 20;
    c.attempt = attempt;
    this.at(this.now + backoff * (0.5 + this.prng.float()), {
      kind: 'client_timeout',
      client: c.id,
      opId: op.id,
      attempt,
    });
  }

  private reply(req: ClientRequest, reply: ClientReply): void {
    if (this.faultsOn && this.prng.chance(this.scenario.network.drop)) return;
    this.at(this.now + 0.2 + this.prng.float() * 2, {
      kind: 'client_reply',
      client: req.client,
      opId: req.op.id,
      attempt: req.attempt,
      reply,
    });
  }

  /** A node receives a client request: propose it, or start a linearizable read. */
  private serveClient(n: SimNode, req: ClientRequest): void {
    if (!n.alive) return;
    const multi = n.multi!;
    const op = req.op;
    if (!multi.hasGroup(op.group)) {
      this.reply(req, { kind: 'redirect', leader: null });
      return;
    }
    if (op.kind === 'get' || op.kind === 'read_log') {
      const ctx = `${n.id}/${n.epoch}/${++n.readCounter}`;
      const r = multi.readIndex(op.group, ctx);
      if (r.ok) n.reads.set(ctx, { req, group: op.group });
      else
        this.reply(
          req,
          r.error.code === 'not_leader' ? { kind: 'redirect', leader: r.error.leader } : { kind: 'retry' },
        );
    } else {
      const data = encodeOp({ id: op.id, kind: op.kind, key: op.key, value: op.value ?? '' });
      const r = multi.propose(op.group, data);
      if (r.ok) {
        let pending = n.proposals.get(op.group);
        if (!pending) {
          pending = new Map();
          n.proposals.set(op.group, pending);
        }
        const old = pending.get(r.value.index);
        if (old) this.reply(old.req, { kind: 'retry' });
        pending.set(r.value.index, { term: r.value.term, req });
      } else {
        this.reply(
          req,
          r.error.code === 'not_leader' ? { kind: 'redirect', leader: r.error.leader } : { kind: 'retry' },
        );
      }
    }
    this.scheduleTurn(n);
  }

  // ---------------------------------------------------------------------------
  // Faults

  private faultRound(): void {
    const s = this.scenario;
    if (this.prng.chance(s.crashRate)) {
      const alive = this.nodes.filter((n) => n.alive);
      if (alive.length > 0) {
        const victim = this.prng.pick(alive);
        this.crash(victim);
        const down = s.downMinMs + this.prng.float() * (s.downMaxMs - s.downMinMs);
        this.at(this.now + down, { kind: 'restart', node: victim.index });
      }
    }
    if (this.prng.chance(s.powerLossRate)) {
      const alive = this.nodes.filter((n) => n.alive);
      const count = this.prng.chance(0.5) ? alive.length : Math.floor(this.nodes.length / 2) + 1;
      const victims = this.shuffled(alive).slice(0, count);
      this.trace(`power loss: ${victims.map((v) => v.id).join(',')}`);
      for (const v of victims) {
        this.crash(v);
        const down = s.downMinMs + this.prng.float() * (s.downMaxMs - s.downMinMs);
        this.at(this.now + down, { kind: 'restart', node: v.index });
      }
    }
    if (this.prng.chance(s.partitionRate)) {
      this.stats.partitions++;
      const ids = this.shuffled(this.nodes.map((n) => n.id));
      const r = this.prng.float();
      if (this.prng.chance(0.5)) this.network.heal();
      if (r < 0.3) {
        this.network.partition([[ids[0]!], ids.slice(1)]);
        this.trace(`partition: ${ids[0]} isolated`);
      } else if (r < 0.6) {
        const cut = 1 + this.prng.int(ids.length - 1);
        this.network.partition([ids.slice(0, cut), ids.slice(cut)]);
        this.trace(`partition: ${ids.slice(0, cut).join(',')} | ${ids.slice(cut).join(',')}`);
      } else {
        const links = 1 + this.prng.int(3);
        for (let i = 0; i < links; i++) {
          const a = this.prng.pick(ids);
          const b = this.prng.pick(ids);
          if (a !== b) {
            this.network.blockOneWay(a, b);
            this.trace(`partition: one-way ${a} -> ${b}`);
          }
        }
      }
    } else if (this.prng.chance(0.1)) {
      this.network.heal();
      this.trace('network healed');
    }
  }

  /** The fault phase ends: heal everything, restart everyone, and require progress. */
  private heal(): void {
    this.faultsOn = false;
    this.network.heal();
    this.network.faults = CALM_NETWORK;
    for (const n of this.nodes) if (!n.alive) this.start(n);
    this.trace('faults stop: network healed, all nodes up; liveness probes start');
    for (let g = 0; g < this.scenario.activeGroups; g++) {
      const client: SimClient = {
        id: this.clients.length,
        current: null,
        attempt: 0,
        hints: new Map(),
        probeGroup: g,
      };
      this.clients.push(client);
      this.nextOp(client);
    }
  }

  // ---------------------------------------------------------------------------
  // Membership, transfers and placement

  private leaderOf(g: GroupId): { node: SimNode; status: RaftStatus } | null {
    let best: { node: SimNode; status: RaftStatus } | null = null;
    for (const n of this.nodes) {
      if (!n.alive) continue;
      const raft = n.multi!.node(g);
      if (raft?.role !== 'leader') continue;
      if (best === null || raft.term > best.status.term) best = { node: n, status: raft.status() };
    }
    return best;
  }

  private controllerRound(): void {
    const s = this.scenario;
    for (const g of this.everMoved) this.reconcile(g);
    for (let g = 0; g < s.activeGroups; g++) {
      const move = this.moves.get(g);
      if (move) this.advanceMove(g, move);
      else if (this.faultsOn && this.prng.chance(s.moveRate)) this.startMove(g);
      if (this.faultsOn && this.prng.chance(s.transferRate)) {
        const l = this.leaderOf(g);
        if (l) {
          const others = l.status.conf.voters.filter((v) => v !== l.node.id);
          if (others.length > 0) {
            const to = this.prng.pick(others);
            if (l.node.multi!.transferLeader(g, to).ok) {
              this.stats.transfers++;
              this.trace(`group ${g}: transfer leadership ${l.node.id} -> ${to}`);
              this.scheduleTurn(l.node);
            }
          }
        }
      }
    }
  }

  private startMove(g: GroupId): void {
    const l = this.leaderOf(g);
    if (!l || l.status.conf_index > l.status.commit) return;
    const conf = l.status.conf;
    if (conf.learners.length > 0) return;
    const spare = this.nodes.map((n) => n.id).filter((id) => !isMember(conf, id));
    const victim = this.prng.pick(conf.voters);
    if (spare.length > 0) {
      const target = this.prng.pick(spare);
      this.moves.set(g, { phase: 'add', target, victim, readd: false });
      this.trace(`group ${g}: move ${victim} -> ${target} begins`);
    } else if (conf.voters.length >= 3) {
      this.moves.set(g, { phase: 'remove', target: victim, victim, readd: true });
      this.trace(`group ${g}: remove and re-add ${victim} begins`);
    } else {
      return;
    }
    this.everMoved.add(g);
  }

  private advanceMove(g: GroupId, move: Move): void {
    const l = this.leaderOf(g);
    if (!l || l.status.conf_index > l.status.commit) return;
    const conf = l.status.conf;
    const propose = (change: ConfChange) => {
      const r = l.node.multi!.proposeConfChange(g, change);
      if (r.ok) {
        this.stats.confChanges++;
        this.trace(`group ${g}: ${l.node.id} proposed ${change.type} ${change.node} at ${r.value.index}`);
        this.scheduleTurn(l.node);
      }
    };
    switch (move.phase) {
      case 'add':
        if (isMember(conf, move.target)) {
          move.phase = 'promote';
          return;
        }
        if (!this.faultsOn) {
          this.moves.delete(g);
          return;
        }
        this.ensureHosted(this.node(move.target), g);
        propose({ type: 'add_learner', node: move.target });
        return;
      case 'promote':
        if (isVoter(conf, move.target)) {
          if (move.readd) this.moves.delete(g);
          else move.phase = 'remove';
          return;
        }
        if (!conf.learners.includes(move.target)) {
          move.phase = 'add';
          return;
        }
        propose({ type: 'promote', node: move.target });
        return;
      case 'remove':
        if (!isMember(conf, move.victim)) {
          move.phase = 'destroy';
          return;
        }
        if (!this.faultsOn && !move.readd) {
          this.moves.delete(g);
          return;
        }
        propose({ type: 'remove', node: move.victim });
        return;
      case 'destroy': {
        this.destroyReplica(this.node(move.victim), g);
        if (move.readd) move.phase = 'add';
        else this.moves.delete(g);
        return;
      }
    }
  }

  /** Creates an empty replica on a member that lacks one (it will receive a snapshot). */
  private ensureHosted(n: SimNode, g: GroupId): void {
    if (!n.alive || n.multi!.hasGroup(g) || n.disk.has(g)) return;
    const tomb = n.disk.tombstone(g);
    const created = n.multi!.createGroup(g, tomb !== undefined ? { min_term: tomb + 1 } : {});
    if (!created.ok) throw new Error(created.error.message);
    n.sms.set(g, new SimStateMachine());
    this.checker.replicaStarted(g, n.id, 0, 0, 0);
    this.trace(
      `${n.id} group ${g}: empty replica created${tomb !== undefined ? ` (min term ${tomb + 1})` : ''}`,
    );
    this.scheduleTurn(n);
  }

  private destroyReplica(n: SimNode, g: GroupId): void {
    // The tombstone covers every term the old replica reached and the term that removed it.
    let term = this.leaderOf(g)?.status.term ?? 0;
    if (n.alive && n.multi!.hasGroup(g)) {
      const removed = n.multi!.removeGroup(g);
      if (removed.ok) term = Math.max(term, removed.value.term);
      n.sms.delete(g);
      n.proposals.delete(g);
    }
    n.disk.destroy(g, term);
    this.trace(`${n.id} group ${g}: replica destroyed`);
  }

  private reconcile(g: GroupId): void {
    const l = this.leaderOf(g);
    if (!l) return;
    const conf = l.status.conf;
    for (const id of [...conf.voters, ...conf.learners]) this.ensureHosted(this.node(id), g);
  }

  // ---------------------------------------------------------------------------
  // End of run

  /** After the faults stop: every probe committed, every client idle, every replica caught up. */
  private settled(): boolean {
    if (this.faultsOn) return false;
    for (const c of this.clients) if (c.current !== null) return false;
    for (const m of this.moves.values()) if (m.phase !== 'add' && m.phase !== 'promote') return false;
    for (let g = 0; g < this.scenario.groups; g++) {
      const l = this.leaderOf(g);
      if (!l) return false;
      const conf = l.status.conf;
      for (const id of [...conf.voters, ...conf.learners]) {
        const n = this.node(id);
        const raft = n.multi?.node(g);
        if (!raft || raft.applied < l.status.commit) return false;
      }
    }
    return true;
  }

  private failLiveness(): void {
    for (const c of this.clients) {
      if (c.probeGroup !== null && c.current !== null) {
        throw new Violation(
          'liveness',
          `group ${c.probeGroup} did not commit a proposal within ${this.scenario.livenessMs}ms after faults stopped`,
        );
      }
    }
    for (let g = 0; g < this.scenario.groups; g++) {
      const l = this.leaderOf(g);
      if (!l)
        throw new Violation(
          'liveness',
          `group ${g} has no leader ${this.scenario.livenessMs}ms after faults stopped`,
        );
      const conf = l.status.conf;
      for (const id of [...conf.voters, ...conf.learners]) {
        const raft = this.node(id).multi?.node(g);
        if (!raft || raft.applied < l.status.commit) {
          throw new Violation(
            'liveness',
            `group ${g}: ${id} applied ${raft?.applied ?? 'nothing'} of ${l.status.commit} after faults stopped`,
          );
        }
      }
    }
    // Clients still retrying when time ran out: their outcome stays unknown.
  }

  private finalChecks(): void {
    const logs = new Map<GroupId, string[][]>();
    for (const n of this.nodes) {
      if (!n.alive) continue;
      for (const [g, sm] of n.sms) {
        let l = logs.get(g);
        if (!l) {
          l = [];
          logs.set(g, l);
        }
        l.push(sm.log);
      }
    }
    checkHistory(this.history, logs);
  }
}

/** Messages that promise durable state: crashing right after one is the worst moment. */
function isPromise(m: WireMessage): boolean {
  return (m.type === 'vote_resp' || m.type === 'app_resp') && !m.reject;
}

export function runSeed(seed: number, options: Omit<SimOptions, 'seed'> = {}): SimResult {
  return new Simulation({ seed, ...options }).run();
}
