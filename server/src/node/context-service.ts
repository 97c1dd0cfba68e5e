import type {
  AppendResult,
  CompactResult,
  Context,
  MessageInput,
  MessagesPage,
  Policy,
  TailResponse,
  Window,
} from '@fastpaca/contract';

/**
 * What the HTTP and stream layers need from a node. Writes resolve once the
 * command is committed (durable on a quorum) and applied; reads are
 * linearizable. Failures are thrown as `AppError`s with wire codes.
 */
export interface ContextService {
  putContext(
    id: string,
    body: {
      token_budget: number;
      trigger_ratio?: number;
      policy?: Policy;
      metadata?: Record<string, unknown>;
    },
  ): Promise<Context>;
  getContext(id: string): Promise<Context>;
  tombstone(id: string): Promise<void>;
  patchMetadata(id: string, metadata: Record<string, unknown>): Promise<Context>;
  /** One message, or several as one atomic turn. */
  append(
    id: string,
    input: { messages: readonly MessageInput[]; if_version?: number; idempotency_key?: string },
  ): Promise<Required<AppendResult> & { replayed: boolean }>;
  tail(id: string, offset: number, limit: number): Promise<TailResponse>;
  messages(id: string, afterSeq: number, limit: number): Promise<MessagesPage>;
  window(id: string, options: { budget_tokens?: number; if_version?: number }): Promise<Window>;
  compact(id: string, input: { replacement: MessageInput[]; if_version?: number }): Promise<CompactResult>;
  /** Why the node is not ready, or undefined when it is. */
  notReadyReason(): string | undefined;
  /** Why the node cannot recover without a restart (its storage failed), or undefined. */
  notLiveReason(): string | undefined;
}
