export type {
  AckArchivedCommand,
  AppendCommand,
  CompactCommand,
  ContextCommand,
  ContextCommandType,
  PatchMetadataCommand,
  PreparedMessage,
  PutContextCommand,
  TombstoneCommand,
} from './commands.js';
export { type ArchiveState, type CommandValue, ContextGroup } from './context-group.js';
export { engineLimits } from './limits.js';
export type {
  AckArchivedValue,
  AppendValue,
  Applied,
  CommandError,
  CommandErrorCode,
  CommandResult,
  CommandValues,
  ContextEvent,
  ContextView,
  VersionMismatch,
  VersionValue,
} from './results.js';
export type { SeqRange } from './segments.js';
export { SnapshotError, snapshot_format_version } from './snapshot.js';
export { countMessage, countParts, preparedWithCounts, prepareMessage } from './tokens/count-message.js';
export type { TokenEstimator } from './tokens/estimator.js';
export {
  defaultEstimatorSpec,
  type EstimatorSpec,
  EstimatorSpecError,
  parseEstimatorSpec,
  type TiktokenEncoding,
  tiktokenEncodings,
} from './tokens/estimator-spec.js';
export { loadEstimator } from './tokens/load-estimator.js';
export type { LogPage, MessagesSlice, WindowOptions, WindowView } from './views.js';
