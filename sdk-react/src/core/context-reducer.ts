import type { Context, Message, SubscriptionEvent, SubscriptionStatus, Window } from '@fastpaca/sdk';
import type { ContextState, LocalMessage, ViewStatus, WindowState } from './context-state.js';
import { initialContextState } from './context-state.js';
import { hasSeq, keepNewest, mergeMessages, uiMessageIdOf } from './message-log.js';

/** Everything that changes a context's view. The store dispatches these; nothing else writes state. */
export type ContextAction =
  | { type: 'started' }
  | { type: 'loaded'; context: Context; messages: readonly Message[]; window: Window }
  | { type: 'stream_status'; status: SubscriptionStatus }
  | { type: 'event'; event: SubscriptionEvent }
  | { type: 'window_loaded'; window: Window }
  | { type: 'failed'; error: Error }
  | { type: 'older_started' }
  | { type: 'older_loaded'; messages: readonly Message[] }
  | { type: 'older_failed'; error: Error }
  | { type: 'local_upserted'; message: LocalMessage }
  | { type: 'local_committed'; id: string; seq: number }
  | { type: 'local_removed'; id: string };

/** Bounds of one view; every collection in the state has one. */
export interface ContextLimits {
  /** Loaded messages kept in memory; live appends beyond it drop the oldest. */
  messagesMax: number;
  /** Optimistic messages at once; a new one beyond it drops the oldest. */
  localMax: number;
  /** Remembered row keys of confirmed optimistic messages. */
  adoptedKeysMax: number;
}

export const defaultContextLimits: ContextLimits = {
  messagesMax: 10_000,
  localMax: 100,
  adoptedKeysMax: 500,
};

/**
 * The one function that changes a context's view. Pure: the same state and
 * action give the same result, and a no-op returns the state unchanged so
 * subscribers are not woken for nothing.
 */
export function contextReducer(
  state: ContextState,
  action: ContextAction,
  limits: ContextLimits,
): ContextState {
  const next = apply(state, action, limits);
  if (next === state) return state;
  const reconciled = reconcile(next, limits);
  const status = statusOf(reconciled);
  return status === reconciled.status ? reconciled : { ...reconciled, status };
}

function apply(state: ContextState, action: ContextAction, limits: ContextLimits): ContextState {
  switch (action.type) {
    case 'started':
      return { ...initialContextState, local: state.local, adoptedKeys: state.adoptedKeys };
    case 'loaded':
      return {
        ...state,
        loaded: true,
        error: undefined,
        context: action.context,
        tombstoned: state.tombstoned || action.context.status === 'tombstoned',
        messages: keepNewest(mergeMessages(state.messages, action.messages), limits.messagesMax),
        window: newerWindow(state.window, action.window),
        version: maxVersion(state.version, Math.max(action.context.version, action.window.version)),
      };
    case 'window_loaded':
      return withWindow(state, action.window);
    case 'stream_status':
      return state.stream === action.status ? state : { ...state, stream: action.status };
    case 'failed':
      return { ...state, error: action.error };
    case 'event':
      return applyEvent(state, action.event, limits);
    case 'older_started':
      return { ...state, loadingOlder: true, olderError: undefined };
    case 'older_loaded':
      return { ...state, loadingOlder: false, messages: mergeMessages(state.messages, action.messages) };
    case 'older_failed':
      return { ...state, loadingOlder: false, olderError: action.error };
    case 'local_upserted': {
      const at = state.local.findIndex((m) => m.id === action.message.id);
      if (at >= 0) {
        const local = state.local.slice();
        local[at] = action.message;
        return { ...state, local };
      }
      const kept =
        state.local.length >= limits.localMax
          ? state.local.slice(state.local.length - limits.localMax + 1)
          : state.local;
      return { ...state, local: [...kept, action.message] };
    }
    case 'local_committed': {
      const at = state.local.findIndex((m) => m.id === action.id);
      if (at < 0) return state;
      const local = state.local.slice();
      const current = local[at]!;
      local[at] = {
        ...current,
        seq: action.seq,
        state: current.state === 'sending' ? 'sent' : current.state,
      };
      return { ...state, local };
    }
    case 'local_removed': {
      const local = state.local.filter((m) => m.id !== action.id);
      return local.length === state.local.length ? state : { ...state, local };
    }
  }
}

function applyEvent(state: ContextState, event: SubscriptionEvent, limits: ContextLimits): ContextState {
  const version = maxVersion(state.version, event.version);
  switch (event.type) {
    case 'message':
      return {
        ...state,
        version,
        messages: keepNewest(mergeMessages(state.messages, [event.message]), limits.messagesMax),
      };
    case 'context': {
      const window: WindowState = {
        version: event.version,
        used_tokens: event.used_tokens,
        needs_compaction: event.needs_compaction,
      };
      return { ...state, version, window: newerWindow(state.window, window) };
    }
    case 'compaction':
      return { ...state, version };
    case 'gap_filled':
      return {
        ...state,
        version,
        context: event.context,
        messages: keepNewest(mergeMessages(state.messages, event.messages), limits.messagesMax),
      };
    case 'reset':
      // Nothing loaded can be trusted any more; the store reloads from scratch.
      return {
        ...state,
        version: event.version,
        loaded: false,
        messages: [],
        window: undefined,
        loadingOlder: false,
      };
    case 'tombstoned':
      return { ...state, version, tombstoned: true };
  }
}

function withWindow(state: ContextState, window: Window): ContextState {
  const next = newerWindow(state.window, window);
  return next === state.window
    ? state
    : { ...state, window: next, version: maxVersion(state.version, next.version) };
}

/** Window numbers only move forward: a read that raced a newer stream event must not undo it. */
function newerWindow(current: WindowState | undefined, candidate: WindowState): WindowState {
  if (current && current.version >= candidate.version) return current;
  return {
    version: candidate.version,
    used_tokens: candidate.used_tokens,
    needs_compaction: candidate.needs_compaction,
  };
}

function maxVersion(current: number | undefined, candidate: number): number {
  return current === undefined || candidate > current ? candidate : current;
}

/**
 * Drops optimistic messages the log now holds (matched by acknowledged seq or
 * by ai-sdk UI id), so a message is never listed twice, and hands their row
 * keys to the log messages that replaced them.
 */
function reconcile(state: ContextState, limits: ContextLimits): ContextState {
  if (state.local.length === 0 || state.messages.length === 0) return state;
  let byUiId: Map<string, number> | undefined;
  if (state.local.some((m) => m.uiMessageId !== null)) {
    byUiId = new Map();
    for (const message of state.messages) {
      const id = uiMessageIdOf(message);
      if (id !== undefined) byUiId.set(id, message.seq);
    }
  }
  let adopted: Map<number, string> | undefined;
  const local = state.local.filter((m) => {
    let seq: number | undefined;
    if (m.seq !== null && hasSeq(state.messages, m.seq)) seq = m.seq;
    else if (m.uiMessageId !== null) seq = byUiId?.get(m.uiMessageId);
    if (seq === undefined) return true;
    if (m.uiMessageId === null) {
      adopted ??= new Map(state.adoptedKeys);
      adopted.set(seq, localKey(m));
    }
    return false;
  });
  if (local.length === state.local.length) return state;
  if (adopted) {
    for (const key of adopted.keys()) {
      if (adopted.size <= limits.adoptedKeysMax) break;
      adopted.delete(key);
    }
  }
  return { ...state, local, adoptedKeys: adopted ?? state.adoptedKeys };
}

/** The row key of an optimistic message (and of the log message that later replaces it). */
export function localKey(message: LocalMessage): string {
  return message.uiMessageId !== null ? `ui:${message.uiMessageId}` : `local:${message.id}`;
}

function statusOf(state: ContextState): ViewStatus {
  if (state.error) return 'error';
  if (state.tombstoned) return 'tombstoned';
  if (!state.loaded) return 'loading';
  if (state.stream === 'open') return 'live';
  if (state.stream === 'reconnecting' || state.stream === 'paused') return 'reconnecting';
  return 'loading';
}
