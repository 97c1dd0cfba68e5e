import type { MessagesSnapshot, WindowSnapshot } from './context-store.js';

/**
 * Snapshots for views that have no store yet: during server rendering,
 * hydration and the first client render (`loading`), or without a context id
 * (`idle`). They are constants because `useSyncExternalStore` requires the
 * same object for the same state.
 */
export const loadingMessagesSnapshot: MessagesSnapshot = Object.freeze({
  messages: Object.freeze([]),
  status: 'loading',
  error: undefined,
  hasOlder: false,
  loadingOlder: false,
  olderError: undefined,
});

export const idleMessagesSnapshot: MessagesSnapshot = Object.freeze({
  ...loadingMessagesSnapshot,
  status: 'idle',
});

export const loadingWindowSnapshot: WindowSnapshot = Object.freeze({
  status: 'loading',
  error: undefined,
  version: undefined,
  used_tokens: undefined,
  needs_compaction: undefined,
  token_budget: undefined,
  trigger_ratio: undefined,
});

export const idleWindowSnapshot: WindowSnapshot = Object.freeze({
  ...loadingWindowSnapshot,
  status: 'idle',
});
