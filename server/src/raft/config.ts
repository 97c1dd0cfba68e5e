/**
 * Every limit of the Raft core, named with its unit last. `validateRaftConfig`
 * rejects unknown keys and out-of-range values with a message naming the field,
 * so a typo in a deployment fails at start-up instead of silently using a default.
 */
export interface RaftConfig {
  /** Followers wait a random [election_ticks, 2 × election_ticks) ticks for a leader. */
  readonly election_ticks: number;
  /** A leader sends heartbeats every heartbeat_ticks ticks. */
  readonly heartbeat_ticks: number;
  /** Entry payload bytes per append message (at least one entry is always sent). */
  readonly max_append_bytes: number;
  readonly max_append_entries: number;
  /** Append messages in flight per follower in the replicate state. */
  readonly max_inflight_msgs: number;
  readonly max_inflight_bytes: number;
  /** Payload bytes a leader holds uncommitted before it refuses proposals. */
  readonly max_uncommitted_bytes: number;
  readonly max_entry_bytes: number;
  /** Payload bytes of committed entries handed out per `ready()`. */
  readonly max_apply_bytes: number;
  /** Pending linearizable reads per group (waiting for confirmation or apply). */
  readonly max_read_index_queue: number;
  /** Messages waiting for a write to become durable; beyond this they are dropped like lost packets. */
  readonly max_held_msgs: number;
  readonly snapshot_chunk_bytes: number;
  readonly max_snapshot_bytes: number;
  /** Entries kept in memory behind a compaction snapshot, so a slightly lagging follower needs no snapshot. */
  readonly compaction_keep_entries: number;
  /** A learner may be promoted once it is at most this many entries behind the commit index. */
  readonly max_promote_lag_entries: number;
  /**
   * A leader steps down when it has not heard from a quorum for an election
   * timeout, and followers that hear a live leader ignore (pre-)vote requests.
   * (Pre-vote itself is always on: without it a replica with a stale
   * configuration can keep bumping terms and starve the one that could win.)
   */
  readonly check_quorum: boolean;
}

export const DEFAULT_RAFT_CONFIG: RaftConfig = Object.freeze({
  election_ticks: 10,
  heartbeat_ticks: 2,
  max_append_bytes: 1024 * 1024,
  max_append_entries: 512,
  max_inflight_msgs: 64,
  max_inflight_bytes: 16 * 1024 * 1024,
  max_uncommitted_bytes: 64 * 1024 * 1024,
  max_entry_bytes: 8 * 1024 * 1024,
  max_apply_bytes: 16 * 1024 * 1024,
  max_read_index_queue: 4096,
  max_held_msgs: 8192,
  snapshot_chunk_bytes: 1024 * 1024,
  max_snapshot_bytes: 1024 * 1024 * 1024,
  compaction_keep_entries: 128,
  max_promote_lag_entries: 64,
  check_quorum: true,
});

export class RaftConfigError extends Error {
  override name = 'RaftConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`raft config: ${field}: ${message}`);
  }
}

type IntField = Exclude<keyof RaftConfig, 'check_quorum'>;

const INT_BOUNDS: Record<IntField, readonly [number, number]> = {
  election_ticks: [2, 1_000_000],
  heartbeat_ticks: [1, 1_000_000],
  max_append_bytes: [1, 2 ** 31],
  max_append_entries: [1, 1_000_000],
  max_inflight_msgs: [1, 1_000_000],
  max_inflight_bytes: [1, 2 ** 40],
  max_uncommitted_bytes: [1, 2 ** 40],
  max_entry_bytes: [1, 2 ** 31],
  max_apply_bytes: [1, 2 ** 40],
  max_read_index_queue: [1, 1_000_000],
  max_held_msgs: [1, 10_000_000],
  snapshot_chunk_bytes: [1, 2 ** 31],
  max_snapshot_bytes: [1, 2 ** 42],
  compaction_keep_entries: [0, 10_000_000],
  max_promote_lag_entries: [0, 10_000_000],
};

/** Fills defaults and validates; throws `RaftConfigError` naming the first bad field. */
export function validateRaftConfig(input: Partial<RaftConfig> = {}): RaftConfig {
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_RAFT_CONFIG)) throw new RaftConfigError(key, 'unknown setting');
  }
  const merged: RaftConfig = { ...DEFAULT_RAFT_CONFIG, ...input };
  for (const field of Object.keys(INT_BOUNDS) as IntField[]) {
    const value = merged[field];
    const [lo, hi] = INT_BOUNDS[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < lo || value > hi) {
      throw new RaftConfigError(field, `must be an integer in [${lo}, ${hi}], got ${String(value)}`);
    }
  }
  if (typeof merged.check_quorum !== 'boolean')
    throw new RaftConfigError('check_quorum', 'must be a boolean');
  if (merged.heartbeat_ticks >= merged.election_ticks) {
    throw new RaftConfigError('heartbeat_ticks', 'must be smaller than election_ticks');
  }
  if (merged.max_entry_bytes > merged.max_uncommitted_bytes) {
    throw new RaftConfigError('max_entry_bytes', 'must not exceed max_uncommitted_bytes');
  }
  return Object.freeze(merged);
}
