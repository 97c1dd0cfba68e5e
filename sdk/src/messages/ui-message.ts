import type { Message, MessageInput, Part, WindowMessage } from '@fastpaca/contract';
import { limits } from '@fastpaca/contract';
import { assert } from '../util/assert.js';

/**
 * The shape of an ai-sdk `UIMessage` (v5 and later), declared structurally so this package
 * does not depend on `ai`: any `UIMessage` is assignable to it.
 */
export interface UIMessageLike {
  id: string;
  role: string;
  parts: ReadonlyArray<{ readonly type: string }>;
  metadata?: unknown;
}

/** What `append` and `compact` accept: a wire message or an ai-sdk `UIMessage`. */
export type AppendableMessage = MessageInput | UIMessageLike;

/** A stored message turned back into ai-sdk's `UIMessage` shape. */
export interface FastpacaUIMessage {
  id: string;
  role: 'system' | 'user' | 'assistant';
  metadata?: unknown;
  parts: Part[];
}

/** Metadata key that keeps a UI message's `id`. */
export const uiMessageIdKey = 'ui_message_id';
/** Metadata key that keeps UI metadata that is not a JSON object (stored metadata must be one). */
export const uiMetadataKey = 'ui_metadata';
/** Metadata key naming the UI message a regenerated reply replaces (the log is append-only, so both stay stored). */
export const uiReplacesKey = 'ui_replaces';

const uiRoles = new Set(['system', 'user', 'assistant']);

export function isUIMessage(message: AppendableMessage): message is UIMessageLike {
  return typeof (message as { id?: unknown }).id === 'string';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The wire form of a message. A UI message's `id` is kept in
 * `metadata.ui_message_id` (the server assigns its own `seq`), its metadata is
 * kept alongside, and only wire fields are sent.
 */
export function toMessageInput(message: AppendableMessage): MessageInput {
  assert(
    message !== null && typeof message === 'object' && Array.isArray(message.parts),
    'a message needs a role and a parts array',
  );
  if (isUIMessage(message)) {
    const meta = message.metadata;
    // An empty id is an unset one (what onFinish gives unless the route generates ids): it is not kept.
    const id = message.id === '' ? {} : { [uiMessageIdKey]: message.id };
    const metadata = isPlainObject(meta)
      ? { ...meta, ...id }
      : meta === undefined
        ? id
        : { [uiMetadataKey]: meta, ...id };
    return { role: message.role, parts: message.parts as Part[], metadata };
  }
  const input: MessageInput = { role: message.role, parts: message.parts };
  if (message.metadata !== undefined) input.metadata = message.metadata;
  if (message.token_count !== undefined) input.token_count = message.token_count;
  return input;
}

/**
 * The idempotency key derived from a UI message id, so appending the same UI
 * message twice (a retried request, a chat route that receives the whole
 * conversation again) stores it once. URI-encoding keeps every id a valid,
 * distinct key; empty ids and ids too long for a key get none (a random one is used).
 */
export function uiMessageIdempotencyKey(id: string): string | undefined {
  // An empty id is what an unset id looks like (the AI SDK's onFinish gives
  // one unless the server generates ids): two such messages are not the same.
  if (id === '') return undefined;
  const key = `ui:${encodeURIComponent(id)}`;
  return key.length <= limits.idempotency_key_length_max ? key : undefined;
}

export interface ToUIMessagesOptions {
  /**
   * ai-sdk UI messages only have `system`, `user` and `assistant` roles.
   * `skip` (default) leaves other roles (e.g. `tool`) out; `throw` fails.
   */
  unknownRoles?: 'skip' | 'throw';
}

/**
 * Turns stored messages (from `getTail`, `messages`, `history` or the window
 * of `context()`) into ai-sdk `UIMessage`s for `useChat` or
 * `convertToModelMessages`. The `id` is the original UI id when the message
 * was appended as a UI message, else `fastpaca-<seq>` (`fastpaca-summary-<i>`
 * for compaction replacements, which have no seq). The log is append-only, so
 * a UI message stored again (a reply continued after a client tool result) or
 * replaced (a regenerated reply, `metadata.ui_replaces`) shows once: the
 * newest copy, where it was stored. Pass ai-sdk's type as the type argument:
 * `toUIMessages<UIMessage>(window.messages)`.
 */
export function toUIMessages<UI extends UIMessageLike = FastpacaUIMessage>(
  messages: ReadonlyArray<Message | WindowMessage>,
  options: ToUIMessagesOptions = {},
): UI[] {
  const converted: FastpacaUIMessage[] = [];
  messages.forEach((message, index) => {
    if (!uiRoles.has(message.role)) {
      if (options.unknownRoles === 'throw') {
        throw new Error(`@fastpaca/sdk: message ${message.seq ?? `#${index}`} has role "${message.role}"`);
      }
      return;
    }
    converted.push(toUIMessage(message, index));
  });
  return withoutSuperseded(converted, messages) as unknown as UI[];
}

/** What `toUIMessage` reads of a stored message (a `Message`, a `WindowMessage`, a hook's list row). */
export interface StoredMessageLike {
  readonly seq: number | null;
  readonly role: string;
  readonly parts: readonly Part[];
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** One stored message (at `index` in its list) as a UI message; `toUIMessages` says how ids are chosen. */
export function toUIMessage(message: StoredMessageLike, index: number): FastpacaUIMessage {
  const {
    [uiMessageIdKey]: storedId,
    [uiMetadataKey]: storedUiMeta,
    [uiReplacesKey]: _replaces,
    ...rest
  } = message.metadata;
  const id =
    typeof storedId === 'string' && storedId !== ''
      ? storedId
      : message.seq === null
        ? `fastpaca-summary-${index}`
        : `fastpaca-${message.seq}`;
  const ui: FastpacaUIMessage = {
    id,
    role: message.role as FastpacaUIMessage['role'],
    parts: message.parts as Part[],
  };
  if (storedUiMeta !== undefined) ui.metadata = storedUiMeta;
  else if (Object.keys(rest).length > 0) ui.metadata = rest;
  return ui;
}

/**
 * Drops UI messages that a later one supersedes: an older copy of the same
 * assistant reply (continued after a client-side tool result), or a reply a
 * later assistant message says it replaces (regenerated). Only assistant
 * replies are ever superseded, and only by assistant messages, so a user's
 * message can never hide another one by reusing its id. One pass back to
 * front, so the cost is linear in the list.
 */
export function withoutSuperseded<M extends { id: string; role: string }>(
  converted: readonly M[],
  stored: ReadonlyArray<{ readonly role: string; readonly metadata: Readonly<Record<string, unknown>> }>,
  replaced: ReadonlySet<string> = replacedReplies(stored),
): M[] {
  const seen = new Set<string>();
  const out: M[] = [];
  for (let i = converted.length - 1; i >= 0; i--) {
    const message = converted[i]!;
    if (message.role === 'assistant') {
      if (seen.has(message.id) || replaced.has(message.id)) continue;
      seen.add(message.id);
    }
    out.push(message);
  }
  return out.reverse();
}

/** Ids of replies that a later assistant message names in `metadata.ui_replaces`. */
export function replacedReplies(
  stored: ReadonlyArray<{ readonly role: string; readonly metadata: Readonly<Record<string, unknown>> }>,
): Set<string> {
  const replaced = new Set<string>();
  for (const message of stored) {
    const target = message.metadata[uiReplacesKey];
    if (message.role === 'assistant' && typeof target === 'string') replaced.add(target);
  }
  return replaced;
}
