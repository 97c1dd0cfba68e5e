import type { UIMessage } from 'ai';
import { chatIdPattern } from './store';

/** A chat request from the browser, checked field by field: it comes from the open internet. */
export interface ChatRequest {
  id: string;
  message: UIMessage;
  /** The reply a regenerate replaces. */
  replaces: string | undefined;
}

export class BadRequest extends Error {}

const messageIdPattern = /^[A-Za-z0-9_-]{1,100}$/;
const textCharsMax = 8_000;

export function parseChatRequest(body: unknown): ChatRequest {
  const fail = (what: string): never => {
    throw new BadRequest(what);
  };
  if (typeof body !== 'object' || body === null) fail('expected {id, trigger, message}');
  const { id, trigger, messageId, message } = body as Record<string, unknown>;
  if (typeof id !== 'string' || !chatIdPattern.test(id)) fail('id: 1-128 characters of [A-Za-z0-9._:-]');
  if (trigger !== 'submit-message' && trigger !== 'regenerate-message') {
    fail('trigger: "submit-message" or "regenerate-message"');
  }
  if (
    trigger === 'regenerate-message' &&
    (typeof messageId !== 'string' || !messageIdPattern.test(messageId))
  ) {
    fail('messageId: the id of the reply to regenerate');
  }
  const { id: messageIdOf, role, parts } = (message ?? {}) as Record<string, unknown>;
  if (typeof messageIdOf !== 'string' || !messageIdPattern.test(messageIdOf)) {
    fail('message.id: 1-100 characters of [A-Za-z0-9_-]');
  }
  // `fastpaca-<seq>` names stored messages without an id of their own: a browser must not take one.
  if ((messageIdOf as string).startsWith('fastpaca-')) fail('message.id: must not start with "fastpaca-"');
  // Only the user's own words are taken from the browser; replies come from the model on this server.
  if (role !== 'user') fail('message.role: must be "user"');
  if (!Array.isArray(parts) || parts.length !== 1) fail('message.parts: expected one text part');
  const [part] = parts as { type?: unknown; text?: unknown }[];
  if (part?.type !== 'text' || typeof part.text !== 'string')
    fail('message.parts[0]: expected {type: "text", text}');
  const text = (part as { text: string }).text.trim();
  if (text.length === 0 || text.length > textCharsMax) fail(`message text: 1-${textCharsMax} characters`);
  return {
    id: id as string,
    message: { id: messageIdOf as string, role: 'user', parts: [{ type: 'text', text }] },
    replaces: trigger === 'regenerate-message' ? (messageId as string) : undefined,
  };
}
