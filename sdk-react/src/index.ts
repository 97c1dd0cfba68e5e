export type { ChatMessage } from './core/chat-messages.js';
export type {
  ChatSend,
  ChatSendRequest,
  ChatSendResult,
  ChatStatus,
  ChatUserMessage,
  SendMessageInput,
} from './core/chat-session.js';
export type { MessageState, ViewStatus } from './core/context-state.js';
export type { MessagesSnapshot, StreamOptions, WindowSnapshot } from './core/context-store.js';
export type { ContextMessage } from './core/message-view.js';
export { ChatRequestError, readTextStream } from './core/text-stream.js';
export { FastpacaProvider, type FastpacaProviderProps, useFastpacaClient } from './provider.js';
export { type UseAppendResult, useAppend } from './use-append.js';
export {
  type UseContextMessagesOptions,
  type UseContextMessagesResult,
  useContextMessages,
} from './use-context-messages.js';
export { useContextWindow } from './use-context-window.js';
export {
  type UseFastpacaChatOptions,
  type UseFastpacaChatResult,
  useFastpacaChat,
} from './use-fastpaca-chat.js';
