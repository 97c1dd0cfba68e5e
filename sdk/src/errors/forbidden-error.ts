import { FastpacaError, type FastpacaErrorOptions } from './fastpaca-error.js';

const marker = 'fastpaca.sdk.error.forbidden';
const symbol = Symbol.for(marker);

/**
 * 403: valid credentials that do not cover the request, e.g. a scoped token
 * used on another context, without the needed right, or on an admin route.
 */
export class ForbiddenError extends FastpacaError {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name = 'ForbiddenError';

  constructor(options: Omit<FastpacaErrorOptions, 'status' | 'code'>) {
    super({ ...options, status: 403, code: 'forbidden' });
  }

  static override isInstance(error: unknown): error is ForbiddenError {
    return FastpacaError.hasMarker(error, marker);
  }
}
