import type {
  CompactionFrame,
  Context,
  ContextFrame,
  Message,
  MessageFrame,
  ResetFrame,
  TombstonedFrame,
} from '@fastpaca/contract';

/**
 * The stream fell behind the server's replay buffer (a long disconnect, a
 * server restart). The SDK fetched what was missed: `messages` are every
 * message after the last one delivered, up to `context.last_seq`, and
 * `version` is the context version they bring the consumer to. Events that
 * follow have greater versions. Without `includeMessages`, `messages` is empty.
 * The window's `used_tokens` is not included: call `ctx.context()` if needed.
 */
export interface GapFilledEvent {
  type: 'gap_filled';
  version: number;
  messages: Message[];
  context: Context;
}

/**
 * What a subscription delivers, in version order. Events of one version come
 * together: `message`s, then a `compaction`, then one `context` (or
 * `tombstoned`). `reset` means the consumer's state cannot be reconciled
 * (the cursor was ahead of the server, or a gap could not be filled): drop
 * caches and refetch; versions start again from `reset.version`.
 */
export type SubscriptionEvent =
  | MessageFrame
  | CompactionFrame
  | ContextFrame
  | TombstonedFrame
  | ResetFrame
  | GapFilledEvent;

export type SubscriptionStatus = 'connecting' | 'open' | 'reconnecting' | 'paused' | 'closed';

/** How a subscription ended. It never rejects. */
export type SubscriptionEnd =
  | { reason: 'tombstoned' }
  | { reason: 'aborted' }
  | { reason: 'error'; error: Error };
