import type { Message, Part } from '@fastpaca/sdk';
import { localKey } from './context-reducer.js';
import type { LocalMessage, MessageState } from './context-state.js';
import type { MessageLog } from './message-log.js';
import { uiMessageIdOf } from './message-log.js';

/** A row of the message list: a stored message, or an optimistic one the log does not have yet. */
export interface ContextMessage {
  /** Stable across the optimistic-to-committed transition: use it as the React key. */
  readonly key: string;
  /** The log position; `null` until the store acknowledged the message. */
  readonly seq: number | null;
  readonly role: string;
  readonly parts: readonly Part[];
  readonly metadata: Readonly<Record<string, unknown>>;
  /** `null` for messages the log does not have yet. */
  readonly token_count: number | null;
  readonly inserted_at: string | null;
  readonly state: MessageState;
}

/**
 * Builds list rows from the log and the optimistic messages, reusing the row
 * object of every message whose row would not change, so memoised rows skip
 * re-rendering when one message arrives.
 */
export class MessageViewBuilder {
  private rows = new WeakMap<Message, ContextMessage>();
  private localRows = new WeakMap<LocalMessage, ContextMessage>();
  /** The log's rows and keys from the last build: a streamed token changes only the local rows. */
  private committed:
    | {
        messages: MessageLog;
        adoptedKeys: ReadonlyMap<number, string>;
        rows: readonly ContextMessage[];
        keys: ReadonlySet<string>;
      }
    | undefined;

  build(
    messages: MessageLog,
    local: readonly LocalMessage[],
    adoptedKeys: ReadonlyMap<number, string>,
  ): readonly ContextMessage[] {
    const committed = this.committedRows(messages, adoptedKeys);
    if (local.length === 0) return committed.rows;
    const used = new Set<string>();
    const out = committed.rows.slice();
    for (const message of local) {
      let key = localKey(message);
      if (committed.keys.has(key) || used.has(key)) key = `local:${message.id}`;
      // Still taken (a log row adopted this local's key): its position keeps it unique and stable.
      if (committed.keys.has(key) || used.has(key)) key = `local:${message.id}@${out.length}`;
      used.add(key);
      let row = this.localRows.get(message);
      if (row?.key !== key) {
        row = {
          key,
          seq: message.seq,
          role: message.role,
          parts: message.parts,
          metadata: message.metadata,
          token_count: null,
          inserted_at: null,
          state: message.state,
        };
        this.localRows.set(message, row);
      }
      out.push(row);
    }
    return out;
  }

  private committedRows(messages: MessageLog, adoptedKeys: ReadonlyMap<number, string>) {
    const cached = this.committed;
    if (cached?.messages === messages && cached.adoptedKeys === adoptedKeys) return cached;
    const keys = new Set<string>();
    const rows: ContextMessage[] = [];
    for (const message of messages) {
      let key = adoptedKeys.get(message.seq) ?? keyOf(message);
      // Two log messages can carry the same UI id (appended twice beyond the idempotency window).
      if (keys.has(key)) key = `seq:${message.seq}`;
      keys.add(key);
      let row = this.rows.get(message);
      if (row?.key !== key) {
        row = {
          key,
          seq: message.seq,
          role: message.role,
          parts: message.parts,
          metadata: message.metadata,
          token_count: message.token_count,
          inserted_at: message.inserted_at,
          state: 'committed',
        };
        this.rows.set(message, row);
      }
      rows.push(row);
    }
    this.committed = { messages, adoptedKeys, rows, keys };
    return this.committed;
  }
}

function keyOf(message: Message): string {
  const id = uiMessageIdOf(message);
  return id !== undefined ? `ui:${id}` : `seq:${message.seq}`;
}
