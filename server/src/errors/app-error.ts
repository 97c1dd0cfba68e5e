import { type ErrorBody, type ErrorCode, errorStatus } from '@fastpaca/contract';

/**
 * An operating error with a wire code. Thrown by the node and HTTP layers and
 * rendered by the error handler as `{ error, message, details? }` with the
 * status the contract assigns to the code.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Seconds, sent as `Retry-After` (429 and 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = errorStatus[code];
  }

  body(): ErrorBody {
    return this.details === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, message: this.message, details: this.details };
  }
}

export const notFound = (id: string) => new AppError('not_found', `context ${id} does not exist`);

export const versionConflict = (expected: number, found: number) =>
  new AppError('conflict', `version mismatch: expected ${expected}, found ${found}`, { expected, found });
