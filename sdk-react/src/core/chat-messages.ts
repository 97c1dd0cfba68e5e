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
  for (const message of messages) appendChatRow(out, message);
  return out;
}

function appendChatRow(out: ChatMessage[], message: ContextMessage): void {
  if (!chatRoles.has(message.role)) return;
  let row = rows.get(message);
  if (!row) {
    row = toChatMessage(message);
    rows.set(message, row);
  }
  out.push(row);
}

/**
 * `toChatMessages` for a list that changes at its end (a streamed reply, a new
 * message): rows up to the first changed one are taken from the last result,
 * so a token costs a pointer comparison per loaded row, not a conversion.
 */
export class ChatRowsBuilder {
  private input: readonly ContextMessage[] = [];
  private output: ChatMessage[] = [];
  /** `outputLength[i]`: chat rows from the first `i` list rows. */
  private outputLength: number[] = [0];

  build(messages: readonly ContextMessage[]): ChatMessage[] {
    const shared = Math.min(messages.length, this.input.length);
    let same = 0;
    while (same < shared && messages[same] === this.input[same]) same++;
    const out = this.output.slice(0, this.outputLength[same]);
    this.outputLength.length = same + 1;
    for (let i = same; i < messages.length; i++) {
      appendChatRow(out, messages[i]!);
      this.outputLength.push(out.length);
    }
    this.input = messages;
    this.output = out;
    return out;
  }
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
