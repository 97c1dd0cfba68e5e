/**
 * Plain-data types of the Raft core. Everything here is msgpack-able as is: no
 * classes, no maps, no functions, so the transport and the storage adapter can
 * ship and store these values without conversion.
 */

/** A replica of one group: what votes, leads and is named in configurations. */
export type ReplicaId = string;

/** A server process, which hosts one replica of each of many groups. */
export type NodeId = string;

/** Groups are numbered 0..65535; one node hosts many of them. */
export type GroupId = number;

export type EntryType = 'normal' | 'conf_change';

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  /** Opaque to Raft, except for `conf_change` entries (see `encodeConfChange`). */
  readonly data: Uint8Array;
}

/** What must be durable before the node may vote, acknowledge or count itself. */
export interface HardState {
  readonly term: number;
  /** The candidate this node voted for in `term`, or null. */
  readonly vote: ReplicaId | null;
  readonly commit: number;
}

export interface ConfState {
  readonly voters: readonly ReplicaId[];
  readonly learners: readonly ReplicaId[];
}

export interface SnapshotMeta {
  /** Index of the last entry the snapshot covers. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  /** The configuration in force at `index`. */
  readonly conf: ConfState;
  /**
   * CRC-32 of the snapshot's data, computed by the driver's checksum function:
   * a follower verifies the assembled chunks against it before installing, and
   * storage verifies the file against it when loading.
   */
  readonly checksum: number;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine at `meta.index`, opaque to Raft. */
  readonly data: Uint8Array;
}

export type Role = 'follower' | 'pre_candidate' | 'candidate' | 'leader';

export type ConfChangeType = 'add_learner' | 'promote' | 'remove';

/** A single-server membership change, carried in a `conf_change` entry. */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly node: ReplicaId;
}

interface MessageBase {
  readonly group: GroupId;
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  /** The sender's term; 0 for the term-less read-index forwarding messages. */
  readonly term: number;
}

/** Leader → follower: entries after (log_index, log_term), and the leader's commit. */
export interface AppendMessage extends MessageBase {
  readonly type: 'app';
  readonly log_index: number;
  readonly log_term: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Follower → leader. On success `index` is the last index known to match and
 * `log_term` its term, so the leader matches the acknowledgement by (term,
 * index). On reject `index` is the rejected `log_index`, and the hint says
 * where the follower's log diverges: `hint_term` is the follower's term at
 * `index` (0 when its log is shorter) and `hint_index` the first index it holds
 * of that term (or its last index + 1 when shorter).
 */
export interface AppendResponseMessage extends MessageBase {
  readonly type: 'app_resp';
  readonly index: number;
  readonly log_term: number;
  readonly reject: boolean;
  readonly hint_index: number;
  readonly hint_term: number;
}

export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'pre_vote';
  readonly log_index: number;
  readonly log_term: number;
  /** Set when the leader handed over leadership: bypasses leader stickiness. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'vote_resp' | 'pre_vote_resp';
  readonly reject: boolean;
}

/** `ctx` is 0 for a plain heartbeat, else the read-index round it confirms. */
export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly ctx: number;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeat_resp';
  readonly ctx: number;
}

/**
 * One chunk of a snapshot. Chunks are sent in order; `offset` is where `data`
 * starts within the snapshot's data of `total_bytes` bytes.
 */
export interface SnapshotChunkMessage extends MessageBase {
  readonly type: 'snap';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly total_bytes: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/**
 * Follower → leader: chunk progress. `offset` is how many bytes the follower
 * holds; on `reject` the leader resumes from there. Completion is acknowledged
 * with an `app_resp` for `meta.index`, released only once the snapshot is durable.
 */
export interface SnapshotResponseMessage extends MessageBase {
  readonly type: 'snap_resp';
  readonly index: number;
  readonly snap_term: number;
  readonly offset: number;
  readonly reject: boolean;
}

export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeout_now';
}

/** Follower → leader: please confirm a read for `ctx`. Term-less (term 0). */
export interface ReadIndexMessage extends MessageBase {
  readonly type: 'read_index';
  readonly ctx: string;
}

/** Leader → follower: the read for `ctx` may be served once applied ≥ `index`. */
export interface ReadIndexResponseMessage extends MessageBase {
  readonly type: 'read_index_resp';
  readonly ctx: string;
  readonly index: number;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotChunkMessage
  | SnapshotResponseMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly ctx: string;
  readonly index: number;
}

export interface SoftState {
  readonly lead: ReplicaId | null;
  readonly role: Role;
  readonly term: number;
}

/**
 * Handed back through `persisted()` once the write that carried it is durable.
 * Acknowledgements must be reported in the order the writes were issued.
 */
export interface PersistAck {
  readonly group: GroupId;
  /** Per-group, per-process write sequence number. */
  readonly seq: number;
  /** The hard state (term, vote) the write made durable. */
  readonly term: number;
  readonly vote: ReplicaId | null;
  /** The log the write made durable ends at (log_index, log_term). */
  readonly log_index: number;
  readonly log_term: number;
}

export type SnapshotWriteMode = 'install' | 'compact';

/**
 * CRC-32 (IEEE), continued from `previous` when given, so data that arrives in
 * chunks is checked as it comes. Injected by the driver (node's zlib in
 * production): the core stays free of I/O modules.
 */
export type Checksum = (data: Uint8Array, previous?: number) => number;

/**
 * Work for the driver from one group, produced by `ready()`:
 *
 * 1. Persist, in one atomic write: `snapshot` (then drop stored entries up to its
 *    index, or all of them for `install`), then `entries` (replacing any stored
 *    entries from `entries[0].index` on), then `hard_state`. Report `ack` through
 *    `persisted()` once that write is durable.
 * 2. Send `messages`. They are safe to send before the write is durable:
 *    anything that depends on it is withheld and released by a later `ready()`.
 * 3. Apply, in order: an `install` snapshot (restore the state machine), then
 *    `committed_entries`, then serve `read_states`.
 */
export interface Ready {
  readonly group: GroupId;
  readonly soft_state: SoftState | null;
  readonly hard_state: HardState | null;
  readonly snapshot: { readonly snapshot: Snapshot; readonly mode: SnapshotWriteMode } | null;
  readonly entries: readonly Entry[];
  readonly ack: PersistAck | null;
  readonly messages: readonly Message[];
  readonly committed_entries: readonly Entry[];
  readonly read_states: readonly ReadState[];
}

/**
 * The leader's view of one follower (etcd's model):
 * - `probe`: the follower's position is unknown; send one append at a time and
 *   wait for the answer (or a heartbeat response) before the next;
 * - `replicate`: the follower keeps up; stream appends optimistically, bounded
 *   by the in-flight window;
 * - `snapshot`: the follower needs entries the leader no longer has; stream the
 *   snapshot in chunks and send no appends until it is installed.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recent_active: boolean;
}

/** A replica's state as `status()` reports it. */
export interface RaftStatus {
  readonly id: ReplicaId;
  readonly group: GroupId;
  readonly role: Role;
  readonly term: number;
  readonly vote: ReplicaId | null;
  readonly lead: ReplicaId | null;
  readonly commit: number;
  readonly applied: number;
  readonly stable: number;
  readonly first_index: number;
  readonly last_index: number;
  readonly snapshot_index: number;
  /** The newest configuration in the log (in force on this replica). */
  readonly conf: ConfState;
  /** Index of the entry that introduced `conf` (the snapshot index if none since). */
  readonly conf_index: number;
  readonly transferee: ReplicaId | null;
  /** Leader only: each other member's replication progress. */
  readonly progress: Readonly<Record<ReplicaId, ProgressStatus>> | null;
}

/** Where a proposal landed in the leader's log. */
export interface Proposed {
  readonly index: number;
  readonly term: number;
}
