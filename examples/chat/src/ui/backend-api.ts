import { createClient, type FastpacaClient } from '@fastpaca/sdk';
import type { ChatSend } from '@fastpaca/sdk-react';
import type { CompactResult } from '../server/chat-service.js';

/** What the backend says about itself. */
export interface BackendInfo {
  model: string;
  token_budget: number;
  trigger_ratio: number;
}

/** The compaction the backend ran on "compact now" (a type only: nothing of the server reaches the bundle). */
export type { CompactResult } from '../server/chat-service.js';

const chatPath = (id: string) => `/api/chats/${encodeURIComponent(id)}`;

async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = (await response.json().catch(() => ({}))) as T & { message?: string };
  if (!response.ok) throw new Error(payload.message ?? `${path} answered ${response.status}`);
  return payload;
}

export async function fetchInfo(): Promise<BackendInfo> {
  const response = await fetch('/api/info');
  if (!response.ok) throw new Error(`/api/info answered ${response.status}`);
  return (await response.json()) as BackendInfo;
}

export function compactChat(id: string): Promise<CompactResult> {
  return postJson<CompactResult>(`${chatPath(id)}/compact`);
}

/**
 * A client for one chat that reads the store (on this page's origin, which
 * the backend passes through) with a read-only token scoped to that chat.
 * The token is fetched from the backend when needed and renewed halfway
 * through its life; the API key never reaches the page.
 */
export function createChatClient(id: string): FastpacaClient {
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const renew = async () => {
    const { token, expires_at } = await postJson<{ token: string; expires_at: string }>(
      `${chatPath(id)}/token`,
    );
    const now = Date.now();
    cached = { token, renewAt: now + (Date.parse(expires_at) - now) / 2 };
    return token;
  };
  const token = () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    pending ??= renew().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  return createClient({ baseUrl: window.location.origin, token });
}

/** One user turn: the backend stores the message, streams the reply as text, and stores the reply too. */
export const sendTurn: ChatSend = ({ contextId, message, assistantMessageId, signal }) =>
  fetch(`${chatPath(contextId)}/turns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, assistant_message_id: assistantMessageId }),
    signal,
  });
