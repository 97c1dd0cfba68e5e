import type { Part } from '@fastpaca/sdk';
import { randomId } from '@fastpaca/sdk';
import { assert, isAbortError, toError } from './assert.js';
import type { LocalMessage } from './context-state.js';
import type { ContextStore } from './context-store.js';
import { readTextStream } from './text-stream.js';

/**
 * ai-sdk's `useChat` statuses: `submitted` (sent, no reply yet), `streaming`
 * (reply arriving), `ready` (idle) and `error` (the last turn failed; see `error`).
 */
export type ChatStatus = 'ready' | 'submitted' | 'streaming' | 'error';

/** The user's message, as `send` receives it: an ai-sdk `UIMessage`. */
export interface ChatUserMessage {
  id: string;
  role: 'user';
  parts: Part[];
  metadata?: Record<string, unknown>;
}

export interface ChatSendRequest {
  contextId: string;
  /** Append it under this id (ai-sdk UI messages are appended as they are) so the list can match it. */
  message: ChatUserMessage;
  /** Append the reply as a UI message with this id, so the streamed draft gives way to the stored reply. */
  assistantMessageId: string;
  /** Aborted by `stop()` (not by unmounting: the reply outlives the component). */
  signal: AbortSignal;
}

/**
 * What `send` returns: the `fetch` response whose body streams the reply's
 * text, the text deltas themselves, or nothing when the reply is not streamed
 * (it then appears when the log delivers it).
 */
export type ChatSendResult = Response | AsyncIterable<string> | undefined;

export type ChatSend = (request: ChatSendRequest) => ChatSendResult | Promise<ChatSendResult>;

/** `sendMessage` input, as ai-sdk's: text, or parts. */
export type SendMessageInput =
  | { text: string; metadata?: Record<string, unknown> }
  | { parts: Part[]; metadata?: Record<string, unknown> };

export interface ChatSessionState {
  readonly status: ChatStatus;
  readonly error: Error | undefined;
}

type ChatAction =
  | { type: 'submitted' }
  | { type: 'streaming' }
  | { type: 'finished' }
  | { type: 'failed'; error: Error }
  | { type: 'error_cleared' };

export function chatReducer(state: ChatSessionState, action: ChatAction): ChatSessionState {
  switch (action.type) {
    case 'submitted':
      return { status: 'submitted', error: undefined };
    case 'streaming':
      return state.status === 'streaming' ? state : { status: 'streaming', error: undefined };
    case 'finished':
      return state.status === 'ready' && !state.error ? state : { status: 'ready', error: undefined };
    case 'failed':
      return { status: 'error', error: action.error };
    case 'error_cleared':
      return state.error
        ? { status: state.status === 'error' ? 'ready' : state.status, error: undefined }
        : state;
  }
}

/** Duck-typed so runtimes without a global `Response` (and responses from another realm) work. */
function isResponse(value: ChatSendResult): value is Response {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Response).ok === 'boolean' &&
    typeof (value as Response).status === 'number' &&
    'body' in value
  );
}

/** A reply longer than this is cut off: the loop that reads it has a bound like every other. */
export const replyCharsMax = 1_000_000;

interface ListenerEntry {
  listener: () => void;
}

/**
 * One chat's turns, framework-free: shows the user's message at once, calls
 * `send`, streams the reply into a draft row, and leaves both rows to be
 * replaced by the log's copies. Stopping keeps what was shown, marked
 * `partial`, because the backend stores partial replies rather than dropping them.
 */
export class ChatSession {
  private state: ChatSessionState = { status: 'ready', error: undefined };
  private readonly listeners = new Set<ListenerEntry>();
  private turn: AbortController | undefined;

  constructor(
    private readonly contextId: string,
    private readonly store: () => ContextStore | undefined,
    private send: ChatSend,
  ) {}

  setSend(send: ChatSend): void {
    this.send = send;
  }

  getSnapshot = (): ChatSessionState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    const entry = { listener };
    this.listeners.add(entry);
    this.onActive?.();
    return () => {
      this.listeners.delete(entry);
      this.releaseIfIdle();
    };
  };

  /** Aborts the reply in progress; the part already shown stays. */
  stop = (): void => {
    this.turn?.abort();
  };

  clearError = (): void => {
    this.dispatch({ type: 'error_cleared' });
  };

  sendMessage = async (input: SendMessageInput): Promise<void> => {
    assert(!this.turn, 'a reply is in progress: wait for status "ready" or call stop() first');
    const parts: Part[] = 'text' in input ? [{ type: 'text', text: input.text }] : input.parts;
    assert(Array.isArray(parts) && parts.length > 0, 'sendMessage needs text or a non-empty parts array');
    const controller = new AbortController();
    this.turn = controller;
    const user: ChatUserMessage = { id: randomId(), role: 'user', parts };
    if (input.metadata) user.metadata = input.metadata;
    const assistantId = randomId();
    // Looked up at each use: the component (and its store) may unmount and mount again mid-reply.
    const store = {
      upsertLocal: (m: LocalMessage) => this.store()?.upsertLocal(m),
      removeLocal: (id: string) => this.store()?.removeLocal(id),
    };
    const userRow: LocalMessage = {
      id: user.id,
      role: 'user',
      parts,
      metadata: { ...input.metadata, ui_message_id: user.id },
      state: 'sending',
      seq: null,
      uiMessageId: user.id,
    };
    store.upsertLocal(userRow);
    this.dispatch({ type: 'submitted' });

    let text = '';
    let answered = false;
    const showReply = (state: LocalMessage['state'], partial: boolean) => {
      if (!text) return;
      store.upsertLocal({
        id: assistantId,
        role: 'assistant',
        parts: [{ type: 'text', text }],
        metadata: partial ? { partial: true, ui_message_id: assistantId } : { ui_message_id: assistantId },
        state,
        seq: null,
        uiMessageId: assistantId,
      });
    };
    try {
      const result = await this.send({
        contextId: this.contextId,
        message: user,
        assistantMessageId: assistantId,
        signal: controller.signal,
      });
      const deltas = isResponse(result) ? readTextStream(result) : result;
      if (deltas) {
        for await (const delta of deltas) {
          if (controller.signal.aborted) break;
          if (!answered) {
            // The backend stores the user's message before it answers.
            answered = true;
            store.upsertLocal({ ...userRow, state: 'sent' });
          }
          if (!delta) continue;
          assert(typeof delta === 'string', 'send must stream strings');
          if (text.length + delta.length > replyCharsMax) {
            controller.abort();
            break;
          }
          text += delta;
          this.dispatch({ type: 'streaming' });
          showReply('streaming', false);
        }
      }
      if (controller.signal.aborted) {
        this.settleStopped(store, userRow, answered, showReply);
        return;
      }
      if (!answered) store.upsertLocal({ ...userRow, state: 'sent' });
      showReply('sent', false);
      this.dispatch({ type: 'finished' });
    } catch (error) {
      if (controller.signal.aborted || isAbortError(error)) {
        this.settleStopped(store, userRow, answered, showReply);
        return;
      }
      // A reply cut short by a failure was seen too; the backend stores it as partial.
      showReply('sent', true);
      if (!answered) store.removeLocal(userRow.id);
      this.dispatch({ type: 'failed', error: toError(error) });
    } finally {
      if (this.turn === controller) this.turn = undefined;
      this.releaseIfIdle();
    }
  };

  /** Called when the session is idle with no component attached, so a registry can let it go. */
  onIdle: (() => void) | undefined;
  /** Called when a component attaches, so a registry that let the session go takes it back. */
  onActive: (() => void) | undefined;

  private releaseIfIdle(): void {
    if (!this.turn && this.listeners.size === 0) this.onIdle?.();
  }

  private settleStopped(
    store: Pick<ContextStore, 'removeLocal'>,
    userRow: LocalMessage,
    answered: boolean,
    showReply: (state: LocalMessage['state'], partial: boolean) => void,
  ): void {
    showReply('sent', true);
    // Stopped before any answer: the message may never have reached the backend; the log shows it if it did.
    if (!answered) store.removeLocal(userRow.id);
    this.dispatch({ type: 'finished' });
  }

  private dispatch(action: ChatAction): void {
    const next = chatReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const entry of [...this.listeners]) entry.listener();
  }
}
