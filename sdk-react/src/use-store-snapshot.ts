import { useCallback, useSyncExternalStore } from 'react';
import type { ContextStore } from './core/context-store.js';
import { acquireStore, peekStore } from './core/store-registry.js';
import { useFastpacaConfig } from './provider.js';

const unsubscribeNothing = () => {};

/**
 * Reads one slice of a context's shared store. Rendering never starts
 * anything: the store is acquired (and its stream opened) in
 * `useSyncExternalStore`'s subscribe, which React runs after commit, and
 * released by the unsubscribe it returns. Until then, on the server and
 * during hydration, the constant `loading` snapshot is returned.
 */
export function useStoreSnapshot<T>(
  id: string | null | undefined,
  pageSize: number | undefined,
  select: (store: ContextStore) => T,
  loading: T,
  idle: T,
): T {
  const { client, storeDefaults } = useFastpacaConfig();
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (!id) return unsubscribeNothing;
      const store = acquireStore(client, id, {
        ...storeDefaults,
        pageSize: pageSize ?? storeDefaults.pageSize,
      });
      return store.subscribe(onChange);
    },
    [client, storeDefaults, id, pageSize],
  );
  const getSnapshot = () => {
    if (!id) return idle;
    const store = peekStore(client, id);
    return store ? select(store) : loading;
  };
  const getServerSnapshot = () => (id ? loading : idle);
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);
}
