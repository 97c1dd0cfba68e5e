import pino from 'pino';
import { PeerLink } from '../node-link/peer-link.js';
import type { BugSwitches } from '../raft/bugs.js';
import type { RaftConfig } from '../raft/config.js';
import type { GroupId, NodeId, WireMessage } from '../raft/index.js';
import type { Prng } from '../raft/prng.js';
import { type HostObserver, RaftHost } from '../replication/host/raft-host.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import { WalRaftStorage } from '../replication/storage/wal-storage.js';
import { DurabilityOracle, type ObservedStorage } from './durability-oracle.js';
import type { SimDisk } from './sim-disk.js';
import type { SimNetwork } from './sim-network.js';
import { ProcessRuntime, type Scheduler } from './sim-runtime.js';
import { SimStateMachine } from './state-machine.js';

const silent = pino({ level: 'silent' });

/** Where a node keeps its data on its disk. */
export const DATA_DIR = '/data';

/**
 * Node names are `n1`, `n2`, …; a node whose disk was wiped comes back as a
 * new node id `n2~1`, `n2~2`, …. Its replicas are the node id (founding) or
 * `replicaId(node, k)` (added later).
 */
export function nodeIdOf(name: string, incarnation: number): NodeId {
  return incarnation === 0 ? name : `${name}~${incarnation}`;
}

/** The name of the machine a node or replica id lives on. */
export function nodeNameOf(id: NodeId): string {
  const node = nodeOfReplica(id);
  const at = node.indexOf('~');
  return at < 0 ? node : node.slice(0, at);
}

export interface ProcessOptions {
  config: RaftConfig;
  tickMs: number;
  snapshotEvery: number;
  clockRate: number;
  timerJitter: number;
  bugs: BugSwitches | undefined;
  /** Groups this process founds if its storage lacks them (first start only). */
  bootstrap: readonly GroupId[];
  initialVoters: (group: GroupId) => NodeId[];
  observer: (node: SimNode, proc: SimProcess) => HostObserver;
  onSend: (node: SimNode, m: WireMessage) => void;
  onDurabilityViolation: (message: string) => void;
}

/** One running incarnation of a node: the shipping host, WAL and node link on simulated time, disk and network. */
export class SimProcess {
  readonly machines = new Map<GroupId, SimStateMachine>();
  readonly links = new Map<NodeId, PeerLink>();
  host!: RaftHost;
  storage!: ObservedStorage;
  up = false;
  readCounter = 0;

  constructor(
    readonly node: SimNode,
    readonly epoch: number,
    readonly runtime: ProcessRuntime,
  ) {}

  link(to: NodeId, network: SimNetwork): PeerLink {
    let link = this.links.get(to);
    if (!link) {
      const target = this.node.peers.get(nodeNameOf(to));
      const index = target?.index ?? -1;
      link = new PeerLink(
        to,
        { host: nodeNameOf(to), port: 1 },
        this.node.id,
        (_address, events) => network.dial(this.node.index, this.epoch, index, events),
        this.runtime,
        {
          frame_bytes_target: 16 * 1024,
          queue_messages_max: 10_000,
          queue_bytes_max: 64 * 1024 * 1024,
          socket_buffer_bytes_max: 32 * 1024 * 1024,
          reconnect_delay_min_ms: 5,
          reconnect_delay_max_ms: 100,
        },
      );
      this.links.set(to, link);
    }
    return link;
  }
}

/**
 * A simulated machine: a disk that outlives processes, the durability oracle
 * that remembers what the disk promised, and the process running on it (if
 * any). A node whose disk is wiped gets a new incarnation, hence a new
 * replica id: it can never vote as the replica it was.
 */
export class SimNode {
  disk: SimDisk;
  readonly oracle = new DurabilityOracle();
  incarnation = 0;
  epoch = 0;
  proc: SimProcess | null = null;
  pausedUntil = 0;
  /** The node refused to start and waits to be rebuilt. */
  refused = false;
  /** Every node by name (to find peers). */
  peers = new Map<string, SimNode>();
  /** The groups this node founded (as its first incarnation), and their founding members. */
  founding: readonly GroupId[] = [];
  foundingVoters: (group: GroupId) => NodeId[] = () => [];

  constructor(
    readonly name: string,
    readonly index: number,
    readonly scheduler: Scheduler,
    private readonly makeDisk: () => SimDisk,
  ) {
    this.disk = makeDisk();
  }

  get id(): NodeId {
    return nodeIdOf(this.name, this.incarnation);
  }

  /** Epoch of the running process when it is up (serving), else undefined. */
  upEpoch(): number | undefined {
    return this.proc?.up ? this.proc.epoch : undefined;
  }

  /**
   * Starts a process: opens the real WAL on this node's disk (recovery),
   * checks what it loaded against what the disk promised, and starts the real
   * host. Rejects with the storage's error if the node cannot start.
   */
  async start(o: ProcessOptions, prng: Prng, network: SimNetwork): Promise<SimProcess | undefined> {
    const epoch = ++this.epoch;
    const proc = new SimProcess(
      this,
      epoch,
      new ProcessRuntime(this.scheduler, this.index, epoch, prng.fork(), o.clockRate, o.timerJitter),
    );
    this.proc = proc;
    const storage = await WalRaftStorage.open(DATA_DIR, {
      fs: this.disk.view(epoch),
      segment_bytes_max: 16 * 1024,
      segments_retained_max: 3,
      snapshot_write_bytes: 4 * 1024,
      ...(o.bugs && { bugs: o.bugs }),
    });
    if (this.epoch !== epoch) return undefined;
    proc.storage = this.oracle.observe(storage, o.onDurabilityViolation);
    const bootstrap = new Set(o.bootstrap);
    proc.host = new RaftHost({
      nodeId: this.id,
      storage: proc.storage,
      config: o.config,
      tick_ms: o.tickMs,
      snapshot_entries: o.snapshotEvery,
      bootstrap: o.bootstrap,
      initialVoters: o.initialVoters,
      machine: (g) => {
        let m = proc.machines.get(g);
        if (!m) {
          m = new SimStateMachine();
          // A founding member's state machine starts as the state at the founding entry (index 1).
          if (bootstrap.has(g)) m.applied = 1;
          proc.machines.set(g, m);
        }
        return m;
      },
      sender: {
        send: (to: NodeId, m: WireMessage) => {
          o.onSend(this, m);
          return proc.link(to, network).send(m);
        },
      },
      proposal_timeout_ms: 2_000,
      logger: silent,
      seed: prng.nextU32(),
      runtime: proc.runtime,
      observer: o.observer(this, proc),
      snapshot_slice_ms: 1,
      ...(o.bugs && { bugs: o.bugs }),
    });
    await proc.host.start();
    if (this.epoch !== epoch) return undefined;
    proc.storage.checkLoads();
    proc.up = true;
    return proc;
  }

  /** The process dies at once: unsynced data may be lost, in-flight writes torn. */
  crash(network: SimNetwork): void {
    this.epoch++;
    this.proc = null;
    this.disk.crash();
    network.processDied(this.index);
  }

  /** The disk is replaced by an empty one; the node returns as a new replica under the same name. */
  wipe(): void {
    this.disk = this.makeDisk();
    this.oracle.reset();
    this.incarnation++;
    this.refused = false;
  }
}
