import type { BugSwitches } from './bugs.js';
import type { RaftConfig } from './config.js';
import { assert, fail, ok, type Result, raftError } from './errors.js';
import type { Prng } from './prng.js';
import { Replica } from './replica.js';
import type { PersistedState } from './replica-init.js';
import type {
  Checksum,
  ConfChange,
  GroupId,
  Message,
  NodeId,
  PersistAck,
  Proposed,
  RaftStatus,
  Ready,
  ReplicaId,
} from './types.js';

/**
 * One group's heartbeat inside a coalesced batch (leader → follower). `from`
 * and `to` name the replicas when they differ from the batch's nodes.
 */
export interface HeartbeatBeat {
  readonly group: GroupId;
  readonly term: number;
  readonly commit: number;
  readonly ctx: number;
  readonly from?: ReplicaId;
  readonly to?: ReplicaId;
}

/** One group's heartbeat answer inside a coalesced batch (follower → leader). */
export interface HeartbeatReply {
  readonly group: GroupId;
  readonly term: number;
  readonly ctx: number;
  readonly from?: ReplicaId;
  readonly to?: ReplicaId;
}

/**
 * All heartbeats and heartbeat answers from one node to another in one turn,
 * for every group: with hundreds of groups a peer pair exchanges one message
 * per heartbeat interval each way, not one per group. `from` and `to` are
 * nodes; every other message is addressed to a replica.
 */
export interface HeartbeatBatchMessage {
  readonly type: 'heartbeat_batch';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly beats: readonly HeartbeatBeat[];
  readonly replies: readonly HeartbeatReply[];
}

export type WireMessage = Message | HeartbeatBatchMessage;

export interface GroupInit {
  /**
   * This node's replica id in the group (default: the node's id). A replica
   * added to a group gets an id never used in it before, so it can never be
   * taken for an earlier replica of the same node (see the README).
   */
  readonly replica?: ReplicaId;
  /** What storage holds for the group (omit for a brand-new, empty replica). */
  readonly storage?: PersistedState;
  readonly applied?: number;
  /** The replica's previous incarnation on this node reached this term (see `removeGroup`). */
  readonly min_term?: number;
}

export interface MultiReady {
  /** Per-group work; messages are not in here but in `messages`. */
  readonly readies: readonly Ready[];
  /** Every group's messages, with heartbeats coalesced per peer. */
  readonly messages: readonly WireMessage[];
}

export interface MultiRaftOptions {
  readonly id: NodeId;
  /** The node a replica id lives on (default: the id itself); heartbeats are coalesced per node. */
  readonly nodeOf?: (replica: ReplicaId) => NodeId;
  readonly config: RaftConfig;
  readonly prng: Prng;
  readonly checksum: Checksum;
  readonly bugs?: BugSwitches;
}

/**
 * All Raft groups hosted by one node, still pure. It routes messages by group,
 * ticks every group, drives heartbeats for all groups on one shared clock so
 * they coalesce into one message per peer, and merges every group's output
 * into one `MultiReady` per turn (one durable write, then one send pass).
 */
export class MultiRaft {
  readonly id: NodeId;
  private readonly nodeOf: (replica: ReplicaId) => NodeId;
  private readonly cfg: RaftConfig;
  private readonly prng: Prng;
  private readonly checksum: Checksum;
  private readonly bugs: BugSwitches | undefined;
  private readonly nodes = new Map<GroupId, Replica>();
  /** Groups touched since the last `ready()`; only they can have output. */
  private readonly dirty = new Set<GroupId>();
  private ticks = 0;
  /** Messages for groups this node does not host (the cluster layer may want to know). */
  droppedMessages = 0;

  constructor(options: MultiRaftOptions) {
    this.id = options.id;
    this.nodeOf = options.nodeOf ?? ((replica) => replica);
    this.cfg = options.config;
    this.prng = options.prng;
    this.checksum = options.checksum;
    this.bugs = options.bugs;
  }

  createGroup(group: GroupId, init: GroupInit = {}): Result<void> {
    if (this.nodes.has(group))
      return fail(raftError('group_exists', `group ${group} already exists on ${this.id}`));
    const replica = init.replica ?? this.id;
    assert(this.nodeOf(replica) === this.id, `replica ${replica} does not live on node ${this.id}`);
    const node = new Replica({
      id: replica,
      group,
      config: this.cfg,
      prng: this.prng.fork(),
      checksum: this.checksum,
      heartbeat: 'external',
      ...(init.storage !== undefined && { storage: init.storage }),
      ...(init.applied !== undefined && { applied: init.applied }),
      ...(init.min_term !== undefined && { min_term: init.min_term }),
      ...(this.bugs !== undefined && { bugs: this.bugs }),
    });
    this.nodes.set(group, node);
    this.dirty.add(group);
    return ok(undefined);
  }

  /**
   * Drops the group from this node. Returns the term it reached: persist it as
   * a tombstone and pass it as `min_term` if the group ever comes back here,
   * so the new replica cannot vote again in a term the old one voted in.
   */
  removeGroup(group: GroupId): Result<{ term: number }> {
    const node = this.nodes.get(group);
    if (!node) return fail(raftError('unknown_group', `group ${group} is not on ${this.id}`));
    this.nodes.delete(group);
    this.dirty.delete(group);
    return ok({ term: node.term });
  }

  hasGroup(group: GroupId): boolean {
    return this.nodes.has(group);
  }

  groups(): GroupId[] {
    return [...this.nodes.keys()];
  }

  /** For inspection (status, log reads); drive the group only through this class. */
  node(group: GroupId): Replica | undefined {
    return this.nodes.get(group);
  }

  status(group: GroupId): RaftStatus | undefined {
    return this.nodes.get(group)?.status();
  }

  tick(): void {
    this.ticks++;
    const beat = this.ticks % this.cfg.heartbeat_ticks === 0;
    for (const [group, node] of this.nodes) {
      node.tick();
      if (beat) node.heartbeat();
      if (node.hasReady()) this.dirty.add(group);
    }
  }

  /** A message from a peer; one for a group or a replica this node does not host is dropped and counted. */
  step(m: WireMessage): void {
    if (m.type !== 'heartbeat_batch') {
      const node = this.nodes.get(m.group);
      if (!node || node.id !== m.to) {
        this.droppedMessages++;
        return;
      }
      node.step(m);
      this.dirty.add(m.group);
      return;
    }
    if (m.to !== this.id) {
      this.droppedMessages++;
      return;
    }
    for (const b of m.beats) {
      const node = this.nodes.get(b.group);
      const to = b.to ?? m.to;
      if (!node || node.id !== to) {
        this.droppedMessages++;
        continue;
      }
      node.step({
        type: 'heartbeat',
        group: b.group,
        from: b.from ?? m.from,
        to,
        term: b.term,
        commit: b.commit,
        ctx: b.ctx,
      });
      this.dirty.add(b.group);
    }
    for (const r of m.replies) {
      const node = this.nodes.get(r.group);
      const to = r.to ?? m.to;
      if (!node || node.id !== to) {
        this.droppedMessages++;
        continue;
      }
      node.step({
        type: 'heartbeat_resp',
        group: r.group,
        from: r.from ?? m.from,
        to,
        term: r.term,
        ctx: r.ctx,
      });
      this.dirty.add(r.group);
    }
  }

  propose(group: GroupId, data: Uint8Array): Result<Proposed> {
    return this.with(group, (n) => n.propose(data));
  }

  proposeBatch(group: GroupId, items: readonly Uint8Array[]): Result<Proposed[]> {
    return this.with(group, (n) => n.proposeBatch(items));
  }

  proposeConfChange(group: GroupId, change: ConfChange): Result<Proposed> {
    return this.with(group, (n) => n.proposeConfChange(change));
  }

  readIndex(group: GroupId, ctx: string): Result<void> {
    return this.with(group, (n) => n.readIndex(ctx));
  }

  transferLeader(group: GroupId, to: ReplicaId): Result<void> {
    return this.with(group, (n) => n.transferLeader(to));
  }

  compact(group: GroupId, index: number, data: Uint8Array, checksum: number): Result<void> {
    return this.with(group, (n) => n.compact(index, data, checksum));
  }

  campaign(group: GroupId): Result<void> {
    return this.with(group, (n) => {
      n.campaign();
      return ok(undefined);
    });
  }

  /** Reports durable writes; acknowledgements of removed groups are ignored. */
  persisted(acks: readonly PersistAck[]): void {
    for (const ack of acks) {
      const node = this.nodes.get(ack.group);
      if (!node) continue;
      node.persisted(ack);
      this.dirty.add(ack.group);
    }
  }

  hasReady(): boolean {
    for (const g of this.dirty) if (this.nodes.get(g)?.hasReady()) return true;
    return false;
  }

  ready(): MultiReady {
    const readies: Ready[] = [];
    const messages: WireMessage[] = [];
    const batches = new Map<NodeId, { beats: HeartbeatBeat[]; replies: HeartbeatReply[] }>();
    const batchFor = (to: NodeId) => {
      let b = batches.get(to);
      if (!b) {
        b = { beats: [], replies: [] };
        batches.set(to, b);
      }
      return b;
    };
    const again: GroupId[] = [];
    for (const g of this.dirty) {
      const node = this.nodes.get(g);
      if (!node?.hasReady()) continue;
      const r = node.ready();
      // Output bounded per turn (e.g. max_apply_bytes) continues in the next one.
      if (node.hasReady()) again.push(g);
      for (const m of r.messages) {
        if (m.type === 'heartbeat' || m.type === 'heartbeat_resp') {
          const to = this.nodeOf(m.to);
          // Replica ids travel only when they differ from the nodes'.
          const ids = { ...(m.from !== this.id && { from: m.from }), ...(m.to !== to && { to: m.to }) };
          if (m.type === 'heartbeat') {
            batchFor(to).beats.push({ group: m.group, term: m.term, commit: m.commit, ctx: m.ctx, ...ids });
          } else {
            batchFor(to).replies.push({ group: m.group, term: m.term, ctx: m.ctx, ...ids });
          }
        } else {
          messages.push(m);
        }
      }
      readies.push({ ...r, messages: [] });
    }
    this.dirty.clear();
    for (const g of again) this.dirty.add(g);
    for (const [to, b] of batches) {
      assert(to !== this.id, 'a node never sends itself a heartbeat');
      messages.push({ type: 'heartbeat_batch', from: this.id, to, beats: b.beats, replies: b.replies });
    }
    return { readies, messages };
  }

  private with<T>(group: GroupId, f: (n: Replica) => Result<T>): Result<T> {
    const node = this.nodes.get(group);
    if (!node) return fail(raftError('unknown_group', `group ${group} is not on ${this.id}`));
    this.dirty.add(group);
    return f(node);
  }
}
