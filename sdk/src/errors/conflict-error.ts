import { FastpacaError, type FastpacaErrorOptions } from './fastpaca-error.js';

const marker = 'fastpaca.sdk.error.conflict';
const symbol = Symbol.for(marker);

/**
 * 409: `ifVersion` did not match (then `expected` and `found` say which
 * versions), or the context is tombstoned (then both are undefined). Re-read,
 * then retry with the version you read.
 */
export class ConflictError extends FastpacaError {
  /** The marker `isInstance` looks for; a registered symbol is the same in every copy of this package. */
  readonly [symbol] = true;
  override readonly name = 'ConflictError';
  /** The version the request asked for. */
  readonly expected: number | undefined;
  /** The version the context actually had. */
  readonly found: number | undefined;

  constructor(options: Omit<FastpacaErrorOptions, 'status' | 'code'>) {
    super({ ...options, status: 409, code: 'conflict' });
    const details = options.details as { expected?: unknown; found?: unknown } | undefined;
    this.expected = typeof details?.expected === 'number' ? details.expected : undefined;
    this.found = typeof details?.found === 'number' ? details.found : undefined;
  }

  /** True when the conflict is a version mismatch rather than a tombstoned context. */
  get isVersionMismatch(): boolean {
    return this.expected !== undefined && this.found !== undefined;
  }

  static override isInstance(error: unknown): error is ConflictError {
    return FastpacaError.hasMarker(error, marker);
  }
}
