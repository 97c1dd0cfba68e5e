import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { assert } from './core/assert.js';
import { type ChatMessage, ChatRowsBuilder } from './core/chat-messages.js';
import type { ChatSend, ChatStatus, SendMessageInput } from './core/chat-session.js';
import type { ViewStatus } from './core/context-state.js';
import { acquireSession } from './core/session-registry.js';
import { useFastpacaConfig } from './provider.js';
import { useContextMessages } from './use-context-messages.js';

export interface UseFastpacaChatOptions {
  /**
   * Sends one user turn to your backend, which appends the user's message,
   * asks the model, streams the reply back and appends it (as a UI message
   * with `assistantMessageId`). Return the `fetch` response streaming the
   * reply's text, the text deltas, or nothing.
   */
  send: ChatSend;
  /** Messages per page of history (default 50). */
  pageSize?: number;
}

export interface UseFastpacaChatResult {
  id: string;
  /** The durable log as ai-sdk UI messages, plus the user's message and the reply while they are in flight. */
  messages: ChatMessage[];
  status: ChatStatus;
  /** The last turn's failure, else the view's (unknown context, bad token). */
  error: Error | undefined;
  sendMessage: (input: SendMessageInput) => Promise<void>;
  /** Stops the reply in progress; what was shown stays, marked `metadata.partial`. */
  stop: () => void;
  clearError: () => void;
  /** The live view's status: `loading`, `live`, `reconnecting`, … */
  logStatus: ViewStatus;
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder: () => Promise<void>;
  /** Starts the live view over (after `logStatus` is `error`, for instance). */
  retry: () => void;
}

/**
 * ai-sdk's `useChat` surface (`messages`, `sendMessage`, `status`, `stop`)
 * over a durable log: the list comes from the context (so a reload, a second
 * tab or another device shows the same conversation), and only the reply
 * being streamed lives in this component.
 */
export function useFastpacaChat(id: string, options: UseFastpacaChatOptions): UseFastpacaChatResult {
  assert(typeof id === 'string' && id.length > 0, 'useFastpacaChat needs a context id');
  const { client } = useFastpacaConfig();
  const { send, pageSize } = options;
  const view = useContextMessages(id, { pageSize });
  // The session is shared per chat and outlives this component while a reply is under way, so
  // unmounting never stops a reply; finding or creating it has no other side effect.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new `send` must not replace the session (and drop the turn in flight); the effect below hands it over.
  const session = useMemo(() => acquireSession(client, id, send), [client, id]);
  useEffect(() => session.setSend(send), [session, send]);
  const chat = useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot);
  // One builder per hook: a streamed token converts only the rows that changed.
  const [rowsBuilder] = useState(() => new ChatRowsBuilder());
  const messages = useMemo(() => rowsBuilder.build(view.messages), [rowsBuilder, view.messages]);
  return {
    id,
    messages,
    status: chat.status,
    error: chat.error ?? view.error,
    sendMessage: session.sendMessage,
    stop: session.stop,
    clearError: session.clearError,
    logStatus: view.status,
    hasOlder: view.hasOlder,
    loadingOlder: view.loadingOlder,
    loadOlder: view.loadOlder,
    retry: view.retry,
  };
}
