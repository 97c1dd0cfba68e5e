/**
 * ai-sdk integration (`@fastpaca/sdk-react/ai`): `useChat` with a transport
 * that sends only the new message, and a hook that keeps its messages in step
 * with the stored, live log. Needs `ai` (6 or later) and `@ai-sdk/react`.
 */
export {
  mergeChat,
  type SyncableChat,
  type UseFastpacaChatSyncOptions,
  useFastpacaChatSync,
} from './ai/chat-sync.js';
export { type FastpacaChatRequest, FastpacaChatTransport } from './ai/chat-transport.js';
