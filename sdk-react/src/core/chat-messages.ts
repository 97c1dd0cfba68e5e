import { type Part, toUIMessage, uiMessageIdKey } from '@fastpaca/sdk';
import type { MessageState } from './context-state.js';
import type { ContextMessage } from './message-view.js';

/**
 * A chat row in ai-sdk's `UIMessage` shape (`id`, `role`, `parts`,
 * `metadata`), plus where it stands in the log.
 */
export interface ChatMessage {
  /** The id it was appended with, or `fastpaca-<seq>` for messages appended without one. */
  id: string;
  role: 'system' | 'user' | 'assistant';
  parts: Part[];
  /** Stored metadata without the bookkeeping key that holds the id; e.g. `{ partial: true }` on stopped replies. */
  metadata?: Record<string, unknown>;
  seq: number | null;
  state: MessageState;
  /** Unique in the list and stable from optimistic to committed: use it as the React key. */
  key: string;
}

const chatRoles = new Set<string>(['system', 'user', 'assistant']);
const rows = new WeakMap<ContextMessage, ChatMessage>();

/**
 * Chat rows from list rows. Roles a chat does not show (such as `tool`) are
 * left out. Each row converts once: unchanged rows keep their object.
 */
export function toChatMessages(messages: readonly ContextMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const message of messages) {
    if (!chatRoles.has(message.role)) continue;
    let row = rows.get(message);
    if (!row) {
      row = toChatMessage(message);
      rows.set(message, row);
    }
    out.push(row);
  }
  return out;
}

function toChatMessage(message: ContextMessage): ChatMessage {
  // The SDK's conversion, so a chat row and `toUIMessages` agree on ids and metadata.
  const ui = toUIMessage(message, 0);
  const row: ChatMessage = {
    // An optimistic message without a UI id has no seq yet: its list key stands in.
    id: message.seq === null && typeof message.metadata[uiMessageIdKey] !== 'string' ? message.key : ui.id,
    role: ui.role,
    parts: ui.parts,
    seq: message.seq,
    state: message.state,
    key: message.key,
  };
  if (ui.metadata !== undefined) row.metadata = ui.metadata as Record<string, unknown>;
  return row;
}
