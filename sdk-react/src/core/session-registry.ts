import type { FastpacaClient } from '@fastpaca/sdk';
import { type ChatSend, ChatSession } from './chat-session.js';
import { peekStore } from './store-registry.js';

/**
 * One chat session per client and context id, shared by every component that
 * shows the chat and kept while a reply is under way, so a reply outlives the
 * component that asked for it: unmount and mount again mid-reply and the new
 * component shows the same reply streaming on. Idle sessions with no
 * component leave the map.
 */
const registries = new WeakMap<FastpacaClient, Map<string, ChatSession>>();

export function acquireSession(client: FastpacaClient, id: string, send: ChatSend): ChatSession {
  let sessions = registries.get(client);
  if (!sessions) {
    sessions = new Map();
    registries.set(client, sessions);
  }
  const existing = sessions.get(id);
  if (existing) return existing;
  const session = new ChatSession(id, () => peekStore(client, id), send);
  const map = sessions;
  session.onIdle = () => {
    if (map.get(id) === session) map.delete(id);
  };
  // StrictMode unsubscribes and subscribes again: a session in use is registered again.
  session.onActive = () => {
    if (!map.has(id)) map.set(id, session);
  };
  sessions.set(id, session);
  return session;
}
