import type { PolicyInput, TokenRight } from '@fastpaca/contract';
import type { CredentialSource } from './http/credentials.js';
import type { RetryOptions } from './http/retry-policy.js';
import type { RouteBody } from './http/transport.js';

export interface ClientOptions {
  /** `http(s)://host:port` of any node; websockets use the same host and port. */
  baseUrl: string;
  /** The server's `FASTPACA_API_KEY`. Server-side only: browsers use `token`. */
  apiKey?: string;
  /**
   * A scoped token from `ctx.createToken()`, or a function that fetches one.
   * Return `{ token, expires_at }` (what `createToken` answers) to have it
   * reused until shortly before it expires.
   */
  token?: CredentialSource;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Retries of failed requests; `false` for a single attempt. */
  retry?: Partial<RetryOptions> | false;
  /** Extra headers on every REST request. */
  headers?: Record<string, string>;
  /** Time allowed for one attempt of a request, in milliseconds (default 30 000). */
  timeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/**
 * Context configuration as the SDK names it, over a `PUT` body: `budget` and
 * `trigger` stand for `token_budget` and `trigger_ratio`; every other field of
 * the body passes through under its wire name, so a field added to the
 * contract is an option here without an edit.
 */
export type ContextOptionsOf<Body extends { token_budget: number }> = {
  /** Token budget of the LLM window (`token_budget`). */
  budget: number;
  /** Compaction runs above `budget × trigger` (`trigger_ratio`, in (0, 1]; default 0.7 on create). */
  trigger?: number;
  /** Compaction policy (default `last_n` with limit 200 on create). */
  policy?: PolicyInput;
  /** Replaces the metadata when given. */
  metadata?: Record<string, unknown>;
} & Omit<Body, 'token_budget' | 'trigger_ratio' | 'policy' | 'metadata'>;

/** Context configuration, as `client.context(id, options)` and `ctx.configure(options)` take it. */
export type ContextOptions = ContextOptionsOf<RouteBody<'putContext'>>;

export interface AppendOptions extends RequestOptions {
  /** Append only if the context is at this version, else `ConflictError`. */
  ifVersion?: number;
  /** Token count to record instead of the server's estimate. */
  tokenCount?: number;
  /**
   * Makes retries safe: a repeated key returns the original result. Defaults
   * to `ui:<id>` for ai-sdk UI messages and to a random UUID otherwise, and is
   * reused by every retry of the call.
   */
  idempotencyKey?: string;
}

export interface AppendTurnOptions extends RequestOptions {
  /** Append only if the context is at this version, else `ConflictError`. */
  ifVersion?: number;
  /** Makes retries safe (a random UUID by default, reused by every retry of the call). */
  idempotencyKey?: string;
}

export interface WindowOptions extends RequestOptions {
  /** Trim the returned window to this many tokens (stored state is unchanged). */
  budgetTokens?: number;
  /** `ConflictError` unless the context is at this version. */
  ifVersion?: number;
}

export interface CompactOptions extends RequestOptions {
  /** Compact only if the context is at this version, else `ConflictError`. */
  ifVersion?: number;
}

export interface TailOptions extends RequestOptions {
  /** Newest messages to skip (default 0). */
  offset?: number;
  /** Page size, 1–1000 (default 100). */
  limit?: number;
}

export interface MessagesOptions extends RequestOptions {
  /** Return messages with `seq > afterSeq` (default 0). */
  afterSeq?: number;
  /** Page size, 1–1000 (default 100). */
  limit?: number;
}

export interface HistoryOptions extends RequestOptions {
  /** Start after this seq (default 0: the whole history). */
  afterSeq?: number;
  /** Messages fetched per request, 1–1000 (default 1000). */
  pageSize?: number;
}

export interface CreateTokenOptions extends RequestOptions {
  rights: TokenRight[];
  /** Lifetime in seconds (server default 3600, at most 86 400). */
  ttlSeconds?: number;
}
