import { limits } from '@fastpaca/contract';
import { bump, type Contexts, invalid, notFound, tombstoned } from './apply-config.js';
import type { CompactCommand } from './commands.js';
import type { ContextState } from './context-state.js';
import { timestamp } from './context-state.js';
import { compactionEvent, contextEvent } from './events.js';
import { type Applied, ok, type VersionValue, versionMismatch } from './results.js';
import type { SeqRange } from './segments.js';
import { checkAt, checkPreparedMessages, checkVersionGuard } from './validate.js';
import { WindowBuffer } from './window-buffer.js';
import { summaryEntry } from './window-entry.js';

/**
 * Replaces the whole window with the replacement messages as summary entries.
 * The log is untouched. The replacement stands for the log range from the
 * earliest seq the previous window covered up to `last_seq`.
 */
export function applyCompact(contexts: Contexts, cmd: CompactCommand): Applied<VersionValue> {
  const problem =
    checkAt(cmd.at) ??
    checkVersionGuard(cmd.if_version) ??
    checkPreparedMessages(cmd.replacement, 'replacement', 0, limits.replacement_messages_max);
  if (problem !== null) return invalid(problem);
  const state = contexts.get(cmd.id);
  if (state === undefined) return notFound(cmd.id);
  if (state.status === 'tombstoned') return tombstoned(cmd.id);
  if (cmd.if_version !== undefined && cmd.if_version !== null && cmd.if_version !== state.version) {
    return { result: versionMismatch(cmd.if_version, state.version), events: [] };
  }

  const range = coveredRange(state);
  bump(state, cmd.at);
  const insertedAt = timestamp(cmd.at);
  state.window = WindowBuffer.of(cmd.replacement.map((prepared) => summaryEntry(prepared, insertedAt)));
  state.used_tokens = cmd.replacement.reduce((sum, prepared) => sum + prepared.token_count, 0);
  state.summary_range = state.window.length > 0 ? range : null;
  return {
    result: ok({ version: state.version }),
    events: [compactionEvent(state, range), contextEvent(state)],
  };
}

function coveredRange(state: ContextState): SeqRange {
  const last = state.log.last_seq;
  const first = state.window.at(0);
  if (first === undefined) return { from_seq: last, to_seq: last };
  if (first.message.seq !== null) return { from_seq: first.message.seq, to_seq: last };
  return { from_seq: state.summary_range!.from_seq, to_seq: last };
}
