import type { Message } from '@fastpaca/contract';
import { bump, type Contexts, invalid, notFound, tombstoned } from './apply-config.js';
import type { AppendCommand } from './commands.js';
import { thresholdTokens } from './context-state.js';
import { compactionEvent, contextEvent, messageEvent } from './events.js';
import { engineLimits } from './limits.js';
import { runPolicy } from './policy.js';
import { type AppendValue, type Applied, type ContextEvent, ok, versionMismatch } from './results.js';
import { droppedRange } from './segments.js';
import { checkAt, checkPreparedMessages, checkVersionGuard } from './validate.js';
import { liveEntry } from './window-entry.js';

/**
 * Appends messages to the log and the window, then runs the policy when the
 * window went over the trigger. Costs O(messages + window), never O(history).
 */
export function applyAppend(contexts: Contexts, cmd: AppendCommand): Applied<AppendValue> {
  const problem =
    checkAt(cmd.at) ??
    checkVersionGuard(cmd.if_version) ??
    checkPreparedMessages(cmd.messages, 'messages', 1, engineLimits.append_messages_max) ??
    (cmd.idempotency_key === undefined ||
    (typeof cmd.idempotency_key === 'string' && cmd.idempotency_key !== '')
      ? null
      : 'idempotency_key must be a non-empty string');
  if (problem !== null) return invalid(problem);
  const state = contexts.get(cmd.id);
  if (state === undefined) return notFound(cmd.id);

  // A replayed key answers with the original result whatever happened since,
  // so a client retry after a lost response never appends twice.
  const key = cmd.idempotency_key;
  if (key !== undefined) {
    const original = state.idempotency.get(key);
    if (original !== undefined) return { result: ok({ ...original, replayed: true }), events: [] };
  }
  if (state.status === 'tombstoned') return tombstoned(cmd.id);
  if (cmd.if_version !== undefined && cmd.if_version !== null && cmd.if_version !== state.version) {
    return { result: versionMismatch(cmd.if_version, state.version), events: [] };
  }

  bump(state, cmd.at);
  const insertedAt = state.updated_at;
  const events: ContextEvent[] = [];
  let tokenEstimate = 0;
  for (const prepared of cmd.messages) {
    const message: Message = {
      seq: state.log.last_seq + 1,
      role: prepared.role,
      parts: prepared.parts,
      metadata: prepared.metadata,
      token_count: prepared.token_count,
      inserted_at: insertedAt,
    };
    state.log.append(message);
    state.window.push(liveEntry(message, prepared.part_tokens ?? null));
    state.used_tokens += message.token_count;
    tokenEstimate += message.token_count;
    events.push(messageEvent(state, message));
  }

  const threshold = thresholdTokens(state);
  if (state.used_tokens > threshold) {
    const outcome = runPolicy(state.window, state.used_tokens, state.policy, threshold);
    state.window = outcome.window;
    state.used_tokens = outcome.used_tokens;
    const range = droppedRange(outcome.dropped, state.summary_range);
    if (range !== null) events.push(compactionEvent(state, range));
    // Summary entries always lead the window, so the first entry tells whether any survived.
    if (state.window.at(0)?.message.seq !== null) state.summary_range = null;
  }
  events.push(contextEvent(state));

  const value = {
    first_seq: state.log.last_seq - cmd.messages.length + 1,
    seq: state.log.last_seq,
    version: state.version,
    token_estimate: tokenEstimate,
  };
  if (key !== undefined) state.idempotency.remember(key, value, cmd.at);
  return { result: ok({ ...value, replayed: false }), events };
}
