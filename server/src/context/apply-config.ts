import { limits, type Policy } from '@fastpaca/contract';
import type { PatchMetadataCommand, PutContextCommand, TombstoneCommand } from './commands.js';
import { type ContextState, contextView, timestamp } from './context-state.js';
import { contextEvent, tombstonedEvent } from './events.js';
import { IdempotencyCache } from './idempotency-cache.js';
import { isPlainObject, jsonEqual } from './json-equal.js';
import { idempotencyRetention } from './limits.js';
import { frozenDefaultPolicy, normalizePolicy } from './normalize-policy.js';
import { type Applied, type ContextView, fail, ok, type VersionValue } from './results.js';
import { RetainedLog } from './retained-log.js';
import { checkAt, checkContextId, isIntIn } from './validate.js';
import { WindowBuffer } from './window-buffer.js';

export type Contexts = Map<string, ContextState>;

export function notFound<T>(id: string): Applied<T> {
  return { result: fail('not_found', `context ${id} does not exist`), events: [] };
}

export function tombstoned<T>(id: string): Applied<T> {
  return { result: fail('conflict', `context ${id} is tombstoned`), events: [] };
}

export function invalid<T>(message: string): Applied<T> {
  return { result: fail('invalid_request', message), events: [] };
}

/**
 * Creates a context (version 0, empty window, no events) or updates its
 * configuration. Absent fields stay as they are; `metadata` replaces. A PUT
 * that changes nothing is a no-op, so retrying a PUT never bumps the version.
 * A new policy applies from the next trim on: the window is not rebuilt.
 */
export function applyPutContext(contexts: Contexts, cmd: PutContextCommand): Applied<ContextView> {
  const problem =
    checkContextId(cmd.id) ??
    checkAt(cmd.at) ??
    (isIntIn(cmd.token_budget, 1, limits.token_budget_max)
      ? null
      : `token_budget must be an integer in 1–${limits.token_budget_max}`) ??
    (cmd.trigger_ratio === undefined || isRatio(cmd.trigger_ratio)
      ? null
      : 'trigger_ratio must be in (0, 1]') ??
    (cmd.metadata === undefined || isPlainObject(cmd.metadata) ? null : 'metadata must be an object');
  if (problem !== null) return invalid(problem);
  let policy: Policy | undefined;
  if (cmd.policy !== undefined) {
    const normalized = normalizePolicy(cmd.policy);
    if (!normalized.ok) return invalid(normalized.message);
    policy = normalized.policy;
  }

  const existing = contexts.get(cmd.id);
  if (existing === undefined) {
    const at = timestamp(cmd.at);
    const state: ContextState = {
      id: cmd.id,
      token_budget: cmd.token_budget,
      trigger_ratio: cmd.trigger_ratio ?? limits.trigger_ratio_default,
      policy: policy ?? frozenDefaultPolicy,
      metadata: cmd.metadata === undefined ? {} : { ...cmd.metadata },
      status: 'active',
      version: 0,
      created_at: at,
      updated_at: at,
      archived_seq: 0,
      log: RetainedLog.empty(),
      window: WindowBuffer.of([]),
      used_tokens: 0,
      summary_range: null,
      idempotency: new IdempotencyCache(idempotencyRetention),
    };
    contexts.set(cmd.id, state);
    return { result: ok(contextView(state)), events: [] };
  }
  if (existing.status === 'tombstoned') return tombstoned(cmd.id);

  const budgetChanged = cmd.token_budget !== existing.token_budget;
  const ratioChanged = cmd.trigger_ratio !== undefined && cmd.trigger_ratio !== existing.trigger_ratio;
  const policyChanged = policy !== undefined && !jsonEqual(policy, existing.policy);
  const metadataChanged = cmd.metadata !== undefined && !jsonEqual(cmd.metadata, existing.metadata);
  if (!budgetChanged && !ratioChanged && !policyChanged && !metadataChanged) {
    return { result: ok(contextView(existing)), events: [] };
  }
  existing.token_budget = cmd.token_budget;
  if (ratioChanged) existing.trigger_ratio = cmd.trigger_ratio!;
  if (policyChanged) existing.policy = policy!;
  if (metadataChanged) existing.metadata = { ...cmd.metadata };
  bump(existing, cmd.at);
  return { result: ok(contextView(existing)), events: [contextEvent(existing)] };
}

/** Shallow merge patch: `null` deletes a key. Only a real change bumps the version. */
export function applyPatchMetadata(contexts: Contexts, cmd: PatchMetadataCommand): Applied<ContextView> {
  const problem = checkAt(cmd.at) ?? (isPlainObject(cmd.metadata) ? null : 'metadata must be an object');
  if (problem !== null) return invalid(problem);
  const state = contexts.get(cmd.id);
  if (state === undefined) return notFound(cmd.id);
  if (state.status === 'tombstoned') return tombstoned(cmd.id);
  let merged: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(cmd.metadata)) {
    const present = Object.hasOwn(state.metadata, key);
    if (value === null ? !present : present && jsonEqual(value, state.metadata[key])) continue;
    merged ??= { ...state.metadata };
    if (value === null) delete merged[key];
    // A data property, not an assignment, so a key named `__proto__` stays an ordinary key.
    else Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (merged === null) return { result: ok(contextView(state)), events: [] };
  state.metadata = merged;
  bump(state, cmd.at);
  return { result: ok(contextView(state)), events: [contextEvent(state)] };
}

/** Later writes get a conflict; history stays readable. Tombstoning twice is a no-op success. */
export function applyTombstone(contexts: Contexts, cmd: TombstoneCommand): Applied<VersionValue> {
  const problem = checkAt(cmd.at);
  if (problem !== null) return invalid(problem);
  const state = contexts.get(cmd.id);
  if (state === undefined) return notFound(cmd.id);
  if (state.status === 'tombstoned') return { result: ok({ version: state.version }), events: [] };
  state.status = 'tombstoned';
  bump(state, cmd.at);
  return { result: ok({ version: state.version }), events: [tombstonedEvent(state)] };
}

export function bump(state: ContextState, at: number): void {
  state.version += 1;
  state.updated_at = timestamp(at);
}

function isRatio(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 1;
}
