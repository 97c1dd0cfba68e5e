import { FastpacaError, type FastpacaErrorOptions } from './fastpaca-error.js';

const marker = 'fastpaca.sdk.error.rate_limited';
const symbol = Symbol.for(marker);

/** 429: the node's request rate limit. Retried automatically; thrown once retries run out. */
export class RateLimitedError extends FastpacaError {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name = 'RateLimitedError';
  /** Seconds the server asked to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | undefined;

  constructor(options: Omit<FastpacaErrorOptions, 'status' | 'code'> & { retryAfter?: number }) {
    super({ ...options, status: 429, code: 'rate_limited' });
    this.retryAfter = options.retryAfter;
  }

  static override isInstance(error: unknown): error is RateLimitedError {
    return FastpacaError.hasMarker(error, marker);
  }
}
