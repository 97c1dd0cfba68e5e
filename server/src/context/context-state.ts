import type { ContextStatus, Policy } from '@fastpaca/contract';
import type { IdempotencyCache } from './idempotency-cache.js';
import type { ContextView } from './results.js';
import type { RetainedLog } from './retained-log.js';
import type { SeqRange } from './segments.js';
import type { WindowBuffer } from './window-buffer.js';

/**
 * Everything the group knows about one context. Only `ContextGroup.apply`
 * changes it; reads build views from it.
 */
export interface ContextState {
  readonly id: string;
  token_budget: number;
  trigger_ratio: number;
  policy: Policy;
  metadata: Record<string, unknown>;
  status: ContextStatus;
  version: number;
  readonly created_at: string;
  updated_at: string;
  archived_seq: number;
  readonly log: RetainedLog;
  /** The LLM window: zero or more summary entries, then live entries. */
  window: WindowBuffer;
  /** Sum of the window's token counts, maintained incrementally. */
  used_tokens: number;
  /** The log range the current summary entries stand for; null when there are none. */
  summary_range: SeqRange | null;
  readonly idempotency: IdempotencyCache;
}

/**
 * `used_tokens ≤ threshold` is the same as `used_tokens ≤ budget × ratio`
 * for integer counts, and flooring once keeps every comparison in integers.
 */
export function thresholdTokens(state: Pick<ContextState, 'token_budget' | 'trigger_ratio'>): number {
  return Math.floor(state.token_budget * state.trigger_ratio);
}

export function needsCompaction(state: ContextState): boolean {
  return state.used_tokens > thresholdTokens(state);
}

export function contextView(state: ContextState): ContextView {
  return {
    id: state.id,
    token_budget: state.token_budget,
    trigger_ratio: state.trigger_ratio,
    policy: state.policy,
    metadata: { ...state.metadata },
    status: state.status,
    version: state.version,
    last_seq: state.log.last_seq,
    archived_seq: state.archived_seq,
    created_at: state.created_at,
    updated_at: state.updated_at,
  };
}

let lastAt = Number.NaN;
let lastTimestamp = '';

/**
 * Commands carry epoch milliseconds; the wire wants RFC 3339 with
 * milliseconds. Consecutive commands often share a millisecond, so the last
 * conversion is remembered.
 */
export function timestamp(at: number): string {
  if (at !== lastAt) {
    lastTimestamp = new Date(at).toISOString();
    lastAt = at;
  }
  return lastTimestamp;
}
