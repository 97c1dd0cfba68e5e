import type { FastpacaClient } from '@fastpaca/sdk';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import { assert } from './core/assert.js';
import { defaultContextLimits } from './core/context-reducer.js';
import type { ContextStoreOptions, StreamOptions } from './core/context-store.js';

export interface FastpacaProviderProps {
  /** The client every hook below uses (`createClient` from `@fastpaca/sdk`). */
  client: FastpacaClient;
  /** Loaded messages kept in memory per context; live appends beyond it drop the oldest (default 10 000). */
  messagesMax?: number;
  /**
   * How long a context's stream stays open after its last component unmounts
   * (default 0: closed on the next tick, which still lets StrictMode's
   * unmount-and-remount keep the same subscription).
   */
  teardownDelayMs?: number;
  /** Subscription tuning for every context: reconnect backoff, heartbeat and connect timeouts. */
  streamOptions?: StreamOptions;
  children?: ReactNode;
}

/** What the hooks read from the provider. */
export interface FastpacaConfig {
  client: FastpacaClient;
  storeDefaults: ContextStoreOptions;
}

export const defaultPageSize = 50;

const FastpacaReactContext = createContext<FastpacaConfig | null>(null);

/** Puts a client in context for every hook below it. */
export function FastpacaProvider({
  client,
  messagesMax,
  teardownDelayMs,
  streamOptions,
  children,
}: FastpacaProviderProps) {
  const value = useMemo<FastpacaConfig>(
    () => ({
      client,
      storeDefaults: {
        ...defaultContextLimits,
        messagesMax: messagesMax ?? defaultContextLimits.messagesMax,
        pageSize: defaultPageSize,
        teardownDelayMs: teardownDelayMs ?? 0,
        stream: streamOptions,
      },
    }),
    [client, messagesMax, teardownDelayMs, streamOptions],
  );
  return <FastpacaReactContext.Provider value={value}>{children}</FastpacaReactContext.Provider>;
}

export function useFastpacaConfig(): FastpacaConfig {
  const value = useContext(FastpacaReactContext);
  assert(value, 'wrap your components in <FastpacaProvider client={...}>');
  return value;
}

/** The client of the nearest `FastpacaProvider`. */
export function useFastpacaClient(): FastpacaClient {
  return useFastpacaConfig().client;
}
