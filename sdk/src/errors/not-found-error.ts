import { FastpacaError, type FastpacaErrorOptions } from './fastpaca-error.js';

const marker = 'fastpaca.sdk.error.not_found';
const symbol = Symbol.for(marker);

/** 404: the context does not exist (create it with `client.context(id, { budget })`). */
export class NotFoundError extends FastpacaError {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name = 'NotFoundError';

  constructor(options: Omit<FastpacaErrorOptions, 'status' | 'code'>) {
    super({ ...options, status: 404, code: 'not_found' });
  }

  static override isInstance(error: unknown): error is NotFoundError {
    return FastpacaError.hasMarker(error, marker);
  }
}
