import { replacedReplies, type StoredMessageLike, toUIMessage, withoutSuperseded } from '@fastpaca/sdk';
import type { UIMessage } from 'ai';
import { useEffect, useMemo, useRef } from 'react';
import type { ContextMessage } from '../core/message-view.js';
import { type UseContextMessagesResult, useContextMessages } from '../use-context-messages.js';

/** The part of `useChat`'s result the sync reads and writes. */
export interface SyncableChat<UI extends UIMessage> {
  messages: UI[];
  setMessages: (messages: UI[]) => void;
  status: 'submitted' | 'streaming' | 'ready' | 'error';
}

export interface UseFastpacaChatSyncOptions {
  /** Messages in the first page and in each `loadOlder` page (default 50). */
  pageSize?: number;
}

const converted = new WeakMap<ContextMessage, UIMessage>();

/** Each stored row converts once, so a new message costs one conversion, not one per loaded message. */
function uiMessageOf(row: ContextMessage, index: number): UIMessage {
  let message = converted.get(row);
  if (!message) {
    message = toUIMessage(row as StoredMessageLike, index) as UIMessage;
    converted.set(row, message);
  }
  return message;
}

/**
 * The chat's messages, as `useChat` should show them: the stored log, then
 * messages this tab has that the log does not have yet (a reply still being
 * saved), except replies the log says were replaced (regenerated elsewhere).
 */
export function mergeChat<UI extends UIMessage>(
  log: readonly UI[],
  local: readonly UI[],
  replaced: ReadonlySet<string> = new Set(),
): UI[] {
  const stored = new Set(log.map((message) => message.id));
  let lastStored = -1;
  local.forEach((message, i) => {
    if (stored.has(message.id)) lastStored = i;
  });
  const pending = local
    .slice(lastStored + 1)
    .filter((message) => !stored.has(message.id) && !replaced.has(message.id));
  return [...log, ...pending];
}

/**
 * Keeps `useChat`'s messages in step with the context in Fastpaca: the
 * history loads from the store (a reload shows the conversation), and what
 * other tabs, devices or a backend append shows up live. The stream
 * reconnects on its own and asks for a fresh token when one expires. While a
 * reply streams, `useChat` owns the list; when it is done, the stored log
 * takes over again, so the list never flickers. Needs a `FastpacaProvider`.
 */
export function useFastpacaChatSync<UI extends UIMessage>(
  id: string,
  chat: SyncableChat<UI>,
  options: UseFastpacaChatSyncOptions = {},
): UseContextMessagesResult {
  const view = useContextMessages(id, { pageSize: options.pageSize });
  const { log, replaced } = useMemo(() => {
    const rows = view.messages.filter((row) => row.state === 'committed' && row.role !== 'tool');
    const replaced = replacedReplies(rows);
    return { log: withoutSuperseded(rows.map(uiMessageOf), rows, replaced) as UI[], replaced };
  }, [view.messages]);
  // Read through a ref: the merge runs when the log or the status changes, not on every streamed token.
  const latest = useRef(chat);
  latest.current = chat;
  const busy = chat.status === 'submitted' || chat.status === 'streaming';
  useEffect(() => {
    if (busy || view.status === 'loading') return;
    const { messages, setMessages } = latest.current;
    const merged = mergeChat(log, messages, replaced);
    if (merged.length !== messages.length || merged.some((message, i) => message !== messages[i])) {
      setMessages(merged);
    }
  }, [log, replaced, busy, view.status]);
  return view;
}
