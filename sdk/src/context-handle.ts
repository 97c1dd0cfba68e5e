import type {
  AppendResult,
  CompactResult,
  Context,
  Message,
  MessagesPage,
  TailResponse,
  TokenResponse,
  Window,
} from '@fastpaca/contract';
import { limits, PutContextBodySchema } from '@fastpaca/contract';
import { FastpacaError } from './errors/fastpaca-error.js';
import type { CredentialProvider } from './http/credentials.js';
import type { RouteBody, RouteQuery, RouteResult, Transport } from './http/transport.js';
import {
  type AppendableMessage,
  isUIMessage,
  toMessageInput,
  uiMessageIdempotencyKey,
} from './messages/ui-message.js';
import type {
  AppendOptions,
  AppendTurnOptions,
  CompactOptions,
  ContextOptions,
  CreateTokenOptions,
  HistoryOptions,
  MessagesOptions,
  RequestOptions,
  TailOptions,
  WindowOptions,
} from './options.js';
import type { OpenSocket } from './stream/socket.js';
import {
  type EventStream,
  StreamSubscription,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionListener,
} from './stream/subscription.js';
import { assert } from './util/assert.js';
import { randomId } from './util/random-id.js';

/**
 * Retries of one append stop this long after the first attempt: half the time
 * the server is sure to remember the idempotency key, so a retry can never
 * arrive after the key was forgotten and append twice.
 */
const append_retry_window_ms = limits.idempotency_retention_ms / 2;

/** What a handle shares with its client. */

/** The PUT body's fields that options carry under their wire names (`budget` and `trigger` are renamed). */
const putContextFields = Object.keys(PutContextBodySchema.shape).filter(
  (key) => key !== 'token_budget' && key !== 'trigger_ratio',
);

export interface ClientCore {
  transport: Transport;
  openSocket: OpenSocket;
  socketReportsRefusals: boolean;
  credential: CredentialProvider;
  random: () => number;
}

/** `append`'s result: where the message landed, and whether this was a replay of an earlier append. */
export type AppendResponse = Omit<AppendResult, 'first_seq'> & {
  /** True when the idempotency key had been seen: nothing was appended, the original result is returned. */
  replayed: boolean;
};

/** `appendTurn`'s result: the seqs of its first and last messages, its one version, and whether it was a replay. */
export type AppendTurnResponse = Required<AppendResult> & {
  /** True when the idempotency key had been seen: nothing was appended, the original result is returned. */
  replayed: boolean;
};

/**
 * One context. Creating a handle costs nothing; every method is one request
 * (retried under the client's policy) except `history` (pages) and
 * `subscribe` (a websocket). Response types are the contract's.
 */
export class ContextHandle {
  constructor(
    readonly id: string,
    private readonly core: ClientCore,
  ) {
    assert(typeof id === 'string' && id.length > 0, 'a context id is a non-empty string');
  }

  /** Creates the context or updates its configuration (`PUT`, idempotent). */
  async configure(options: ContextOptions & RequestOptions): Promise<Context> {
    const { budget, trigger, signal } = options;
    const body: RouteBody<'putContext'> = { token_budget: budget };
    if (trigger !== undefined) body.trigger_ratio = trigger;
    // Every other field the contract's body has, under its wire name; nothing else (the body is strict).
    for (const key of putContextFields) {
      const value = (options as unknown as Record<string, unknown>)[key];
      if (value !== undefined) (body as Record<string, unknown>)[key] = value;
    }
    const result: RouteResult<'putContext'> = (
      await this.core.transport.call('putContext', { id: this.id, body }, { signal })
    ).body;
    return result;
  }

  /** Configuration, metadata, `version`, `last_seq`, `archived_seq` and `status`. */
  async get(options: RequestOptions = {}): Promise<Context> {
    const result: RouteResult<'getContext'> = (
      await this.core.transport.call('getContext', { id: this.id }, options)
    ).body;
    return result;
  }

  /**
   * Appends a message (a wire message or an ai-sdk `UIMessage`). Always sends
   * an idempotency key, reused by every retry of this call, so a retry after a
   * lost response never appends twice.
   */
  async append(message: AppendableMessage, options: AppendOptions = {}): Promise<AppendResponse> {
    const input = toMessageInput(message);
    if (options.tokenCount !== undefined) input.token_count = options.tokenCount;
    const key =
      options.idempotencyKey ??
      (isUIMessage(message) ? uiMessageIdempotencyKey(message.id) : undefined) ??
      randomId();
    const { status, result } = await this.postAppend({ message: input }, key, options);
    return { ...result, replayed: status === 200 };
  }

  /**
   * Appends several messages as one atomic turn (an assistant's tool call and
   * its results, say): one version, consecutive seqs, all or nothing, so a
   * crash can never leave a call without its result. At most
   * `limits.turn_messages_max` (100) messages. Retried like `append`.
   */
  async appendTurn(
    messages: readonly AppendableMessage[],
    options: AppendTurnOptions = {},
  ): Promise<AppendTurnResponse> {
    const key = options.idempotencyKey ?? randomId();
    const { status, result: typed } = await this.postAppend(
      { messages: messages.map(toMessageInput) },
      key,
      options,
    );
    if (typed.first_seq === undefined) {
      throw new FastpacaError({
        status,
        code: 'invalid_response',
        message: 'the server answered an atomic turn without first_seq: it predates atomic turns',
      });
    }
    return { ...typed, first_seq: typed.first_seq, replayed: status === 200 };
  }

  /** One `POST …/messages` with its idempotency key, retried only while the server surely remembers the key. */
  private async postAppend(
    body: RouteBody<'appendMessage'>,
    key: string,
    options: AppendTurnOptions,
  ): Promise<{ status: number; result: RouteResult<'appendMessage'> }> {
    if (options.ifVersion !== undefined) body.if_version = options.ifVersion;
    const { status, body: result } = await this.core.transport.call(
      'appendMessage',
      { id: this.id, body, headers: { 'idempotency-key': key } },
      { ...options, retryWindowMs: append_retry_window_ms },
    );
    return { status, result };
  }

  /** The LLM window: the messages to send to the model, `used_tokens`, `needs_compaction`, `segments`. */
  async context(options: WindowOptions = {}): Promise<Window> {
    const query: RouteQuery<'getWindow'> = {};
    if (options.budgetTokens !== undefined) query.budget_tokens = options.budgetTokens;
    if (options.ifVersion !== undefined) query.if_version = options.ifVersion;
    const result: RouteResult<'getWindow'> = (
      await this.core.transport.call('getWindow', { id: this.id, query }, options)
    ).body;
    return result;
  }

  /**
   * Atomically replaces the LLM window (e.g. a summary plus recent messages). The log is untouched.
   * Compaction is not idempotent, so it is retried only when the server proves it took no effect;
   * after a timeout or a lost connection the error reaches the caller (re-read the window to see).
   */
  async compact(
    replacement: readonly AppendableMessage[],
    options: CompactOptions = {},
  ): Promise<CompactResult> {
    const body: RouteBody<'compact'> = { replacement: replacement.map(toMessageInput) };
    if (options.ifVersion !== undefined) body.if_version = options.ifVersion;
    const result: RouteResult<'compact'> = (
      await this.core.transport.call('compact', { id: this.id, body }, { ...options, idempotent: false })
    ).body;
    return result;
  }

  /** Newest-first paging: skips `offset` newest messages, returns up to `limit` in chronological order. */
  async getTail(options: TailOptions = {}): Promise<TailResponse> {
    const query: RouteQuery<'getTail'> = {};
    if (options.offset !== undefined) query.offset = options.offset;
    if (options.limit !== undefined) query.limit = options.limit;
    const result: RouteResult<'getTail'> = (
      await this.core.transport.call('getTail', { id: this.id, query }, options)
    ).body;
    return result;
  }

  /** One forward page of the whole history: messages with `seq > afterSeq`. */
  async messages(options: MessagesOptions = {}): Promise<MessagesPage> {
    const query: RouteQuery<'listMessages'> = {};
    if (options.afterSeq !== undefined) query.after_seq = options.afterSeq;
    if (options.limit !== undefined) query.limit = options.limit;
    const result: RouteResult<'listMessages'> = (
      await this.core.transport.call('listMessages', { id: this.id, query }, options)
    ).body;
    return result;
  }

  /** Every message after `afterSeq`, oldest first, fetched page by page as the loop asks for more. */
  async *history(options: HistoryOptions = {}): AsyncGenerator<Message, void, undefined> {
    let after = options.afterSeq ?? 0;
    const limit = options.pageSize ?? 1_000;
    for (;;) {
      const page = await this.messages({ afterSeq: after, limit, signal: options.signal });
      for (const message of page.messages) yield message;
      if (page.next_after_seq === null || page.messages.length === 0) return;
      // Progress on every page is what bounds this loop; a server that stops advancing is broken.
      if (page.next_after_seq <= after) {
        throw new FastpacaError({
          status: 200,
          code: 'invalid_response',
          message: `history of ${this.id}: page after seq ${after} did not advance`,
        });
      }
      after = page.next_after_seq;
    }
  }

  /** Shallow merge: given keys are set, keys set to `null` are removed. */
  async updateMetadata(metadata: Record<string, unknown>, options: RequestOptions = {}): Promise<Context> {
    const result: RouteResult<'patchMetadata'> = (
      await this.core.transport.call('patchMetadata', { id: this.id, body: { metadata } }, options)
    ).body;
    return result;
  }

  /** Tombstones the context: appends fail from now on, history stays readable, subscribers end. */
  async delete(options: RequestOptions = {}): Promise<void> {
    await this.core.transport.call('deleteContext', { id: this.id }, options);
  }

  /** A short-lived token scoped to this context, for browsers (requires the API key). */
  async createToken(options: CreateTokenOptions): Promise<TokenResponse> {
    const body: RouteBody<'createToken'> = { rights: options.rights };
    if (options.ttlSeconds !== undefined) body.ttl_seconds = options.ttlSeconds;
    const result: RouteResult<'createToken'> = (
      await this.core.transport.call('createToken', { id: this.id, body }, options)
    ).body;
    return result;
  }

  /**
   * Live events of this context over a websocket that reconnects by itself.
   * Iterate it with `for await`, or pass `onEvent` for a callback.
   */
  subscribe(options: SubscribeOptions & SubscriptionListener): Subscription;
  subscribe(options?: SubscribeOptions): EventStream;
  subscribe(options: SubscribeOptions & Partial<SubscriptionListener> = {}): EventStream | Subscription {
    const { onEvent, onError, ...rest } = options;
    const { transport } = this.core;
    const subscription = new StreamSubscription(
      {
        contextId: this.id,
        baseUrl: transport.baseUrl,
        openSocket: this.core.openSocket,
        socketReportsRefusals: this.core.socketReportsRefusals,
        credential: this.core.credential,
        random: this.core.random,
        getContext: (signal) => this.get({ signal }),
        probe: async (signal) =>
          transport.call(
            'getContext',
            { id: this.id },
            { signal, retry: { ...transport.options.retry, maxAttempts: 1 } },
          ),
        listMessages: (afterSeq, limit, signal) => this.messages({ afterSeq, limit, signal }),
      },
      rest,
    );
    if (onEvent) subscription.listen(onError ? { onEvent, onError } : { onEvent });
    return subscription;
  }
}
