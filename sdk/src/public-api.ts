/** Everything both entry points export, besides `createClient`. */
export type {
  AppendBody,
  AppendResult,
  ClusterGroup,
  ClusterNode,
  ClusterView,
  CompactionFrame,
  CompactResult,
  Context,
  ContextFrame,
  ContextStatus,
  DrainResponse,
  ErrorCode,
  GapFrame,
  Message,
  MessageFrame,
  MessageInput,
  MessagesPage,
  Part,
  Policy,
  PolicyInput,
  ResetFrame,
  Segment,
  TailResponse,
  TokenResponse,
  TokenRight,
  TombstonedFrame,
  Window,
  WindowMessage,
} from '@fastpaca/contract';
export type { FastpacaClient } from './client.js';
export { type AppendResponse, type AppendTurnResponse, ContextHandle } from './context-handle.js';
export {
  ConflictError,
  FastpacaError,
  type FastpacaErrorCode,
  ForbiddenError,
  isRetryableStatus,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
} from './errors/index.js';
export type { CredentialSource, TokenGrant } from './http/credentials.js';
export { defaultRetryOptions, type RetryOptions } from './http/retry-policy.js';
export {
  type ChatReplyEvent,
  loadChat,
  loadModelInput,
  type SaveChatReplyOptions,
  saveChatReply,
} from './messages/ai-chat.js';
export {
  type AppendableMessage,
  type FastpacaUIMessage,
  replacedReplies,
  type StoredMessageLike,
  type ToUIMessagesOptions,
  toMessageInput,
  toUIMessage,
  toUIMessages,
  type UIMessageLike,
  uiMessageIdKey,
  uiReplacesKey,
  withoutSuperseded,
} from './messages/ui-message.js';
export type {
  AppendOptions,
  AppendTurnOptions,
  ClientOptions,
  CompactOptions,
  ContextOptions,
  ContextOptionsOf,
  CreateTokenOptions,
  HistoryOptions,
  MessagesOptions,
  RequestOptions,
  TailOptions,
  WindowOptions,
} from './options.js';
export type {
  GapFilledEvent,
  SubscriptionEnd,
  SubscriptionEvent,
  SubscriptionStatus,
} from './stream/events.js';
export { defaultReconnectOptions, type ReconnectOptions } from './stream/reconnect.js';
export type {
  EventStream,
  SubscribeOptions,
  Subscription,
  SubscriptionListener,
} from './stream/subscription.js';

/** A random UUID v4 (also where `crypto.randomUUID` is unavailable), e.g. for idempotency keys or optimistic ids. */
export { randomId } from './util/random-id.js';
