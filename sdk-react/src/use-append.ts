import type { AppendableMessage, AppendOptions, AppendResponse } from '@fastpaca/sdk';
import { useCallback, useMemo, useReducer } from 'react';
import { assert, toError } from './core/assert.js';
import { peekStore } from './core/store-registry.js';
import { useFastpacaConfig } from './provider.js';

export interface UseAppendResult {
  /**
   * Appends. Where the context is shown (`useContextMessages` is mounted),
   * the message is listed at once as `sending`, then reconciled with its
   * committed `seq`; on failure it is removed again, `error` is set, and the
   * promise rejects with the SDK's typed error (`ConflictError` for a stale
   * `ifVersion`, for instance).
   */
  append: (message: AppendableMessage, options?: AppendOptions) => Promise<AppendResponse>;
  /** Appends of this hook still in flight. */
  pending: number;
  /** The last failure of this hook, until the next append or `reset()`. */
  error: Error | undefined;
  reset: () => void;
}

interface AppendState {
  pending: number;
  error: Error | undefined;
}

type AppendAction =
  | { type: 'started' }
  | { type: 'succeeded' }
  | { type: 'failed'; error: Error }
  | { type: 'reset' };

function appendReducer(state: AppendState, action: AppendAction): AppendState {
  switch (action.type) {
    case 'started':
      return { pending: state.pending + 1, error: undefined };
    case 'succeeded':
      return { ...state, pending: state.pending - 1 };
    case 'failed':
      return { pending: state.pending - 1, error: action.error };
    case 'reset':
      return state.error ? { ...state, error: undefined } : state;
  }
}

/** Optimistic appends to one context. */
export function useAppend(id: string): UseAppendResult {
  const { client } = useFastpacaConfig();
  const [state, dispatch] = useReducer(appendReducer, { pending: 0, error: undefined });
  const append = useCallback(
    async (message: AppendableMessage, options?: AppendOptions) => {
      assert(typeof id === 'string' && id.length > 0, 'useAppend needs a context id');
      dispatch({ type: 'started' });
      try {
        const store = peekStore(client, id);
        const result = store
          ? await store.append(message, options)
          : await client.contextHandle(id).append(message, options);
        dispatch({ type: 'succeeded' });
        return result;
      } catch (error) {
        dispatch({ type: 'failed', error: toError(error) });
        throw error;
      }
    },
    [client, id],
  );
  const reset = useCallback(() => dispatch({ type: 'reset' }), []);
  return useMemo(
    () => ({ append, pending: state.pending, error: state.error, reset }),
    [append, state, reset],
  );
}
