import { FastpacaError, type FastpacaErrorOptions } from './fastpaca-error.js';

const marker = 'fastpaca.sdk.error.unauthorized';
const symbol = Symbol.for(marker);

/** 401: no credentials, a wrong API key, or an expired or forged token. */
export class UnauthorizedError extends FastpacaError {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name = 'UnauthorizedError';

  constructor(options: Omit<FastpacaErrorOptions, 'status' | 'code'>) {
    super({ ...options, status: 401, code: 'unauthorized' });
  }

  static override isInstance(error: unknown): error is UnauthorizedError {
    return FastpacaError.hasMarker(error, marker);
  }
}
