import type { FastpacaClient } from '@fastpaca/sdk';
import { ContextStore, type ContextStoreOptions } from './context-store.js';

/**
 * One store per client and context id. Keyed by the client object, so two
 * clients (two users, two servers) never share a view, and a client that is
 * garbage collected takes its stores with it. Stores leave the map when their
 * last subscriber does.
 */
const registries = new WeakMap<FastpacaClient, Map<string, ContextStore>>();

/** The running store of this context, if any component subscribes to it. Never creates one. */
export function peekStore(client: FastpacaClient, id: string): ContextStore | undefined {
  return registries.get(client)?.get(id);
}

/**
 * The store of this context, created on first use. Options apply when the
 * store is created; later callers share the existing store as it is.
 */
export function acquireStore(client: FastpacaClient, id: string, options: ContextStoreOptions): ContextStore {
  let stores = registries.get(client);
  if (!stores) {
    stores = new Map();
    registries.set(client, stores);
  }
  const existing = stores.get(id);
  if (existing && !existing.disposed) return existing;
  const map = stores;
  const store = new ContextStore(client.contextHandle(id), options, (disposed) => {
    if (map.get(id) === disposed) map.delete(id);
  });
  stores.set(id, store);
  return store;
}
