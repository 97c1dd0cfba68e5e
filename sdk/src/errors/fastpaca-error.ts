import type { ErrorCode } from '@fastpaca/contract';

/** Wire error codes plus the two failures that never reach the server's error handler. */
export type FastpacaErrorCode = ErrorCode | 'network_error' | 'invalid_response';

export interface FastpacaErrorOptions {
  /** HTTP status; 0 when no response arrived. */
  status: number;
  code: FastpacaErrorCode;
  message: string;
  details?: unknown;
  /** The server's `x-request-id`, to find the request in its logs. */
  requestId?: string;
  cause?: unknown;
  /** Overrides what the status says, for failures a retry cannot fix whatever the status. */
  retryable?: boolean;
}

const marker = 'fastpaca.sdk.error';
const symbol = Symbol.for(marker);

/**
 * Statuses worth retrying: nothing was applied (429, 503 and gateway errors
 * mean the request never reached a leader), or no answer came back at all (0).
 * Everything else is an answer that a retry would only repeat.
 */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 0 || status === 408 || status === 429 || status === 502 || status === 503 || status === 504
  );
}

/**
 * Every error the SDK throws for a failed request. Subclasses exist for the
 * statuses callers handle differently; `code` is the server's machine-readable
 * code. `isInstance` checks a `Symbol.for` marker rather than the prototype, so
 * it recognises errors thrown by another copy of this package (ESM and CJS
 * builds loaded side by side, or two versions in one dependency tree).
 */
export class FastpacaError extends Error {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name: string = 'FastpacaError';
  readonly status: number;
  readonly code: FastpacaErrorCode;
  readonly details: unknown;
  readonly requestId: string | undefined;
  /** Derived from the status: true for network failures, 408, 429, 502, 503 and 504. */
  readonly isRetryable: boolean;

  constructor(options: FastpacaErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
    this.requestId = options.requestId;
    this.isRetryable = options.retryable ?? isRetryableStatus(options.status);
  }

  static isInstance(error: unknown): error is FastpacaError {
    return FastpacaError.hasMarker(error, marker);
  }

  protected static hasMarker(error: unknown, name: string): boolean {
    const key = Symbol.for(name);
    return (
      error !== null &&
      typeof error === 'object' &&
      key in error &&
      (error as Record<symbol, unknown>)[key] === true
    );
  }
}
