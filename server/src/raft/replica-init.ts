import type { BugSwitches } from './bugs.js';
import type { RaftConfig } from './config.js';
import { assert } from './errors.js';
import type { Prng } from './prng.js';
import type { Checksum, ConfState, Entry, GroupId, HardState, ReplicaId, Snapshot } from './types.js';

/** What storage returned for a group at start-up (all empty for a brand-new replica). */
export interface PersistedState {
  readonly hard_state: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export interface ReplicaOptions {
  readonly id: ReplicaId;
  readonly group: GroupId;
  /** Already validated (`validateRaftConfig`). */
  readonly config: RaftConfig;
  readonly prng: Prng;
  /** Verifies snapshots received from a leader (see `SnapshotMeta.checksum`). */
  readonly checksum: Checksum;
  readonly storage?: PersistedState;
  /** The index the state machine already reflects; defaults to the snapshot index. */
  readonly applied?: number;
  /**
   * For a replica recreated on a node that hosted the group before: start above
   * the term the old replica reached, so it can never vote twice in a term.
   */
  readonly min_term?: number;
  /** `external`: the multi-group layer sends heartbeats for all groups at once. */
  readonly heartbeat?: 'own' | 'external';
  /** Test-only fault switches; see `bugs.ts`. */
  readonly bugs?: BugSwitches;
}

export const EMPTY_DATA = new Uint8Array(0);

/**
 * The durable state a brand-new group starts from on each founding member:
 * a snapshot at index 1 holding the configuration and the state machine's
 * initial state (`checksum` is the CRC-32 of `data`; 0 for no data).
 */
export function initialGroupState(
  conf: ConfState,
  initial: { readonly data: Uint8Array; readonly checksum: number } = { data: EMPTY_DATA, checksum: 0 },
): PersistedState {
  assert(conf.voters.length > 0, 'a group needs at least one voter');
  return {
    hard_state: { term: 1, vote: null, commit: 1 },
    snapshot: { meta: { index: 1, term: 1, conf, checksum: initial.checksum }, data: initial.data },
    entries: [],
  };
}
