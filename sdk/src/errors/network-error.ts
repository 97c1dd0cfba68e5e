import { FastpacaError } from './fastpaca-error.js';

const marker = 'fastpaca.sdk.error.network';
const symbol = Symbol.for(marker);

/**
 * No response: connection refused or reset, DNS failure, or the per-attempt
 * timeout. The request may or may not have been applied; appends are safe to
 * retry because they carry an idempotency key. Status 0, always retryable.
 */
export class NetworkError extends FastpacaError {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name = 'NetworkError';

  constructor(message: string, cause?: unknown) {
    super({ status: 0, code: 'network_error', message, cause });
  }

  static override isInstance(error: unknown): error is NetworkError {
    return FastpacaError.hasMarker(error, marker);
  }
}
