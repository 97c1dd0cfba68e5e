import { useCallback, useMemo } from 'react';
import type { MessagesSnapshot } from './core/context-store.js';
import { idleMessagesSnapshot, loadingMessagesSnapshot } from './core/snapshots.js';
import { peekStore } from './core/store-registry.js';
import { useFastpacaConfig } from './provider.js';
import { useStoreSnapshot } from './use-store-snapshot.js';

export interface UseContextMessagesOptions {
  /** Messages in the first page and in each `loadOlder` page, 1–1000 (default 50). */
  pageSize?: number;
}

export interface UseContextMessagesResult extends MessagesSnapshot {
  /** Loads the page before the oldest loaded message; calls while one loads share it. */
  loadOlder: () => Promise<void>;
  /** Starts the view over (a new stream and fresh reads), for instance after an `error`. */
  retry: () => void;
}

/**
 * The latest page of a context's history merged with its live stream, in
 * `seq` order, each message once (replays and reconnects included), followed
 * by optimistic messages the log does not have yet. Every component that
 * shows the same context shares one stream. Pass `null` to render nothing.
 */
export function useContextMessages(
  id: string | null | undefined,
  options: UseContextMessagesOptions = {},
): UseContextMessagesResult {
  const { client } = useFastpacaConfig();
  const { pageSize } = options;
  const snapshot = useStoreSnapshot(
    id,
    pageSize,
    (store) => store.getMessagesSnapshot(),
    loadingMessagesSnapshot,
    idleMessagesSnapshot,
  );
  const loadOlder = useCallback(
    () => (id ? peekStore(client, id)?.loadOlder(pageSize) : undefined) ?? Promise.resolve(),
    [client, id, pageSize],
  );
  const retry = useCallback(() => {
    if (id) peekStore(client, id)?.retry();
  }, [client, id]);
  return useMemo(() => ({ ...snapshot, loadOlder, retry }), [snapshot, loadOlder, retry]);
}
