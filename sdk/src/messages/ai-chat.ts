import { limits } from '@fastpaca/contract';
import type { AppendResponse, ContextHandle } from '../context-handle.js';
import type { RequestOptions } from '../options.js';
import { toUIMessages, type UIMessageLike, uiMessageIdempotencyKey, uiReplacesKey } from './ui-message.js';

/**
 * Server-side helpers for an ai-sdk chat route: the history to render, the
 * model's input, and the reply to keep. They take ai-sdk's `UIMessage` type
 * as a type argument and import nothing from `ai`, so any ai-sdk major whose
 * `UIMessage` has `id`, `role`, `parts` and `metadata` works.
 */

/** What ai-sdk's `toUIMessageStreamResponse({ onFinish })` hands over, the part that matters here. */
export interface ChatReplyEvent<UI extends UIMessageLike> {
  responseMessage: UI;
  /** The reply was cut short (the browser stopped it or went away): it is stored, marked partial. */
  isAborted: boolean;
  /** The reply continues the last message the client sent (after a client-side tool result). */
  isContinuation?: boolean;
  /** ai 6's outcome: a `failed` stream is kept like an aborted one (partial, without unanswered calls). */
  outcome?: { status: string };
}

export interface SaveChatReplyOptions extends RequestOptions {
  /** The id of the reply this one regenerates: histories show only the newest. */
  replaces?: string;
}

/** Tool states a stored reply may end in; a call still waiting for input or output is cut from a partial reply. */
const settledToolStates = new Set([
  'output-available',
  'output-error',
  'output-denied',
  'approval-requested',
]);

function isToolPart(part: { readonly type: string }): boolean {
  return part.type === 'dynamic-tool' || part.type.startsWith('tool-');
}

/**
 * The newest `limit` messages of the chat (default 50, the hooks' page size)
 * as UI messages, for `useChat`'s initial `messages` (on the server, so the
 * first paint has the history).
 */
export async function loadChat<UI extends UIMessageLike>(
  context: ContextHandle,
  options: RequestOptions & { limit?: number } = {},
): Promise<UI[]> {
  const { limit = 50, ...request } = options;
  const tail = await context.getTail({ ...request, limit });
  return toUIMessages<UI>(tail.messages);
}

/**
 * The LLM window as UI messages, for `convertToModelMessages`: compaction
 * summaries included, superseded replies left out.
 */
export async function loadModelInput<UI extends UIMessageLike>(
  context: ContextHandle,
  options: RequestOptions = {},
): Promise<UI[]> {
  const window = await context.context(options);
  return toUIMessages<UI>(window.messages);
}

/**
 * Keeps a streamed reply, with its reasoning, tool calls and tool results, as
 * one message in one atomic append: a crash can never keep a call without its
 * result. An aborted reply keeps what was said (`metadata.partial: true`) and
 * drops tool calls that never got a result, so the next model call is valid.
 * Saving the same reply twice stores it once; a continued reply (the same id,
 * more parts) is stored again and supersedes the older copy in `toUIMessages`.
 * Returns `undefined` when there was nothing to keep.
 */
export async function saveChatReply<UI extends UIMessageLike>(
  context: ContextHandle,
  event: ChatReplyEvent<UI>,
  options: SaveChatReplyOptions = {},
): Promise<AppendResponse | undefined> {
  const { responseMessage } = event;
  const isAborted = event.isAborted || event.outcome?.status === 'failed';
  const { replaces, ...request } = options;
  const parts = isAborted
    ? responseMessage.parts.filter(
        (part) => !isToolPart(part) || settledToolStates.has((part as { state?: string }).state ?? ''),
      )
    : responseMessage.parts;
  if (!parts.some((part) => part.type !== 'step-start')) return undefined;
  const extra: Record<string, unknown> = {};
  if (isAborted) extra.partial = true;
  if (replaces !== undefined) extra[uiReplacesKey] = replaces;
  const meta = responseMessage.metadata;
  const metadata =
    Object.keys(extra).length === 0
      ? meta
      : meta === undefined || (typeof meta === 'object' && meta !== null && !Array.isArray(meta))
        ? { ...(meta as Record<string, unknown> | undefined), ...extra }
        : meta;
  const message = { ...responseMessage, parts, metadata };
  return context.append(message, { ...request, idempotencyKey: replyKey(message, event.isContinuation) });
}

/**
 * A reply's first save uses the message's own key (`ui:<id>`), so a client
 * that later appends the same UI message does not store it twice. A continued
 * reply has the same id and new parts, so its key also names its content.
 */
function replyKey(message: UIMessageLike, isContinuation: boolean | undefined): string | undefined {
  const base = uiMessageIdempotencyKey(message.id);
  if (!isContinuation || message.id === '') return base;
  const content = fnv1a(JSON.stringify(message.parts));
  const key = `${base}:${content}`;
  // An id too long for a key still gets one that names it and its content, never the first save's.
  return key.length <= limits.idempotency_key_length_max ? key : `ui#${fnv1a(message.id)}:${content}`;
}

/** 32-bit FNV-1a, hex: a content tag for idempotency keys, not a security hash. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
