import type { BugSwitches } from '../../src/raft/bugs.js';
import { type RaftConfig, validateRaftConfig } from '../../src/raft/config.js';
import { Prng } from '../../src/raft/prng.js';
import { Replica } from '../../src/raft/replica.js';
import { initialGroupState, type PersistedState } from '../../src/raft/replica-init.js';
import type { Entry, Message, NodeId, ReadState, Ready } from '../../src/raft/types.js';
import { crc32 } from '../../src/util/checksum.js';
import { ModelStorage } from './model-storage.js';

export const GROUP = 7;

export interface HarnessOptions {
  readonly config?: Partial<RaftConfig>;
  /** Voters of the bootstrap configuration (default: every node). */
  readonly voters?: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly seed?: number;
  /** Persist and acknowledge every write at once (default true). */
  readonly autoPersist?: boolean;
  readonly bugs?: BugSwitches;
}

/**
 * A hand-driven cluster of single-group replicas for transcript tests: the test
 * decides when writes become durable, which messages are delivered, and who
 * crashes. Storage is the simulator's disk (written vs durable).
 */
export class Harness {
  readonly config: RaftConfig;
  readonly nodes = new Map<NodeId, Replica>();
  readonly disks = new Map<NodeId, ModelStorage>();
  /** Writes issued but not yet acknowledged, per node. */
  readonly pending = new Map<NodeId, number[]>();
  /** Messages sent and not yet delivered or dropped. */
  inflight: Message[] = [];
  readonly applied = new Map<NodeId, Entry[]>();
  readonly reads = new Map<NodeId, ReadState[]>();
  readonly readies = new Map<NodeId, Ready[]>();
  readonly down = new Set<NodeId>();
  autoPersist: boolean;
  private readonly prng: Prng;
  private readonly bugs: BugSwitches | undefined;
  private readonly cut = new Set<string>();

  constructor(
    readonly ids: readonly NodeId[],
    options: HarnessOptions = {},
  ) {
    this.config = validateRaftConfig({ election_ticks: 10, heartbeat_ticks: 1, ...options.config });
    this.prng = new Prng(options.seed ?? 1);
    this.autoPersist = options.autoPersist ?? true;
    this.bugs = options.bugs;
    const voters = options.voters ?? ids;
    const initial = initialGroupState({ voters, learners: options.learners ?? [] });
    for (const id of ids) {
      const disk = new ModelStorage();
      if (voters.includes(id) || (options.learners ?? []).includes(id)) disk.bootstrap(GROUP, initial);
      this.disks.set(id, disk);
      this.pending.set(id, []);
      this.applied.set(id, []);
      this.reads.set(id, []);
      this.readies.set(id, []);
      this.start(id);
    }
  }

  node(id: NodeId): Replica {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Starts (or restarts) a replica from what its disk holds durably (or from `state`, written to disk first). */
  start(id: NodeId, state?: PersistedState): Replica {
    const disk = this.disks.get(id)!;
    if (state) disk.bootstrap(GROUP, state);
    const n = new Replica({
      id,
      group: GROUP,
      config: this.config,
      prng: this.prng.fork(),
      checksum: crc32,
      storage: state ?? disk.load(GROUP),
      ...(this.bugs && { bugs: this.bugs }),
    });
    this.nodes.set(id, n);
    this.down.delete(id);
    return n;
  }

  /** Loses every write that was not yet durable, then restarts from disk. */
  crash(id: NodeId): void {
    this.disks.get(id)!.crash();
    this.pending.set(id, []);
    this.down.add(id);
  }

  restart(id: NodeId): Replica {
    return this.start(id);
  }

  /** One driver turn: collect the Ready, queue its write, send its messages, record what is applied. */
  turn(id: NodeId): Ready | null {
    if (this.down.has(id)) return null;
    const n = this.node(id);
    if (!n.hasReady()) return null;
    const r = n.ready();
    this.readies.get(id)!.push(r);
    const w = this.disks.get(id)!.submit([r]);
    if (w > 0) this.pending.get(id)!.push(w);
    for (const m of r.messages) this.inflight.push(m);
    this.applied.get(id)!.push(...r.committed_entries);
    this.reads.get(id)!.push(...r.read_states);
    if (this.autoPersist) this.persist(id);
    return r;
  }

  /** Makes every queued write of `id` durable and acknowledges it. */
  persist(id: NodeId): void {
    const disk = this.disks.get(id)!;
    const n = this.node(id);
    for (const w of this.pending.get(id)!) for (const ack of disk.complete(w)) n.persisted(ack);
    this.pending.set(id, []);
  }

  /** Makes only the oldest queued write of `id` durable. */
  persistOne(id: NodeId): void {
    const w = this.pending.get(id)!.shift();
    if (w === undefined) throw new Error(`${id} has no pending write`);
    for (const ack of this.disks.get(id)!.complete(w)) this.node(id).persisted(ack);
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Takes the in-flight messages matching `pred` out of the network. */
  take(pred: (m: Message) => boolean = () => true): Message[] {
    const out = this.inflight.filter(pred);
    this.inflight = this.inflight.filter((m) => !pred(m));
    return out;
  }

  deliver(m: Message): void {
    if (this.down.has(m.to) || this.cut.has(`${m.from}>${m.to}`)) return;
    this.node(m.to).step(m);
  }

  /** Runs turns and delivers messages until nothing moves (bounded). */
  stabilize(maxRounds = 200): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.ids) if (this.turn(id)) moved = true;
      const msgs = this.take();
      for (const m of msgs) this.deliver(m);
      if (!moved && msgs.length === 0) return;
    }
    throw new Error('harness: cluster did not stabilize');
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.ids) if (!this.down.has(id)) this.node(id).tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign and lets the cluster settle; returns whether it leads. */
  elect(id: NodeId): boolean {
    this.node(id).campaign();
    this.stabilize();
    return this.node(id).role === 'leader';
  }

  leader(): Replica | undefined {
    let best: Replica | undefined;
    for (const id of this.ids) {
      if (this.down.has(id)) continue;
      const n = this.node(id);
      if (n.role === 'leader' && (!best || n.term > best.term)) best = n;
    }
    return best;
  }

  sent(id: NodeId): Message[] {
    return this.readies
      .get(id)!
      .flatMap((r) => r.messages)
      .filter((m) => m.from === id);
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
