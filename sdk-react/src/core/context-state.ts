import type { Context, Part, SubscriptionStatus } from '@fastpaca/sdk';
import type { MessageLog } from './message-log.js';

/**
 * Where a context's live view stands:
 * - `idle`: no id given (the hook is disabled);
 * - `loading`: reading the latest page and opening the stream;
 * - `live`: loaded and the stream is open;
 * - `reconnecting`: loaded, the stream dropped and is coming back (nothing is missed meanwhile);
 * - `error`: a failure no retry fixes (unknown context, bad token); see `error`;
 * - `tombstoned`: the context was deleted; history stays readable, nothing new arrives.
 */
export type ViewStatus = 'idle' | 'loading' | 'live' | 'reconnecting' | 'error' | 'tombstoned';

/**
 * Where a message shown in the list stands: `committed` is in the log;
 * `sending` is optimistic (not acknowledged yet); `streaming` is a reply being
 * written; `sent` was acknowledged (or finished streaming) and waits for the
 * log to deliver it.
 */
export type MessageState = 'committed' | 'sending' | 'streaming' | 'sent';

/** A message shown before the log has it: an optimistic append or a reply being streamed. */
export interface LocalMessage {
  readonly id: string;
  readonly role: string;
  readonly parts: readonly Part[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly state: Exclude<MessageState, 'committed'>;
  /** Known once the append was acknowledged; the log message with this seq replaces it. */
  readonly seq: number | null;
  /** The log message with this `metadata.ui_message_id` replaces it. */
  readonly uiMessageId: string | null;
}

/** The LLM window's live numbers. */
export interface WindowState {
  readonly version: number;
  readonly used_tokens: number;
  readonly needs_compaction: boolean;
}

export interface ContextState {
  readonly status: ViewStatus;
  readonly error: Error | undefined;
  /** The latest page arrived (until then the list is empty and `status` is `loading`). */
  readonly loaded: boolean;
  readonly stream: SubscriptionStatus | undefined;
  readonly tombstoned: boolean;
  readonly messages: MessageLog;
  readonly local: readonly LocalMessage[];
  /**
   * Row keys that optimistic messages handed to the log message that replaced
   * them, by seq, so a row keeps its key (and its DOM) when it is confirmed.
   */
  readonly adoptedKeys: ReadonlyMap<number, string>;
  readonly loadingOlder: boolean;
  readonly olderError: Error | undefined;
  /** Configuration and position as last read (budget, trigger ratio). */
  readonly context: Context | undefined;
  readonly window: WindowState | undefined;
  /** Newest version applied from any source. */
  readonly version: number | undefined;
}

export const initialContextState: ContextState = {
  status: 'loading',
  error: undefined,
  loaded: false,
  stream: undefined,
  tombstoned: false,
  messages: [],
  local: [],
  adoptedKeys: new Map(),
  loadingOlder: false,
  olderError: undefined,
  context: undefined,
  window: undefined,
  version: undefined,
};
