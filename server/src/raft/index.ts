/**
 * The pure Raft core: single groups (`Replica`) and many groups per node
 * (`MultiRaft`). No I/O, no clock, no global randomness; see README.md for the
 * driver contract.
 */
export {
  applyConfChange,
  decodeConfChange,
  EMPTY_CONF,
  encodeConfChange,
  isMember,
  isVoter,
  quorumSize,
} from './conf.js';
export { DEFAULT_RAFT_CONFIG, type RaftConfig, RaftConfigError, validateRaftConfig } from './config.js';
export { type RaftError, type RaftErrorCode, type Result, raftError } from './errors.js';
export {
  type GroupInit,
  type HeartbeatBatchMessage,
  type HeartbeatBeat,
  type HeartbeatReply,
  MultiRaft,
  type MultiRaftOptions,
  type MultiReady,
  type WireMessage,
} from './multi-raft.js';
export { Prng } from './prng.js';
export { Replica } from './replica.js';
export { initialGroupState, type PersistedState, type ReplicaOptions } from './replica-init.js';
export type * from './types.js';
