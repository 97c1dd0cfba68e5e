import { FastpacaError, type FastpacaErrorOptions } from './fastpaca-error.js';

const marker = 'fastpaca.sdk.error.unavailable';
const symbol = Symbol.for(marker);

/**
 * 503 (no quorum, leader unknown, shutting down, stream connection cap) or a
 * gateway's 502/504. Retried automatically; thrown once retries run out.
 */
export class UnavailableError extends FastpacaError {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name = 'UnavailableError';
  /** Seconds the server asked to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | undefined;

  constructor(options: Omit<FastpacaErrorOptions, 'code'> & { retryAfter?: number }) {
    super({ ...options, code: 'unavailable' });
    this.retryAfter = options.retryAfter;
  }

  static override isInstance(error: unknown): error is UnavailableError {
    return FastpacaError.hasMarker(error, marker);
  }
}
