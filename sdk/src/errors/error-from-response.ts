import { type ErrorCode, errorStatus } from '@fastpaca/contract';
import { ConflictError } from './conflict-error.js';
import { FastpacaError, type FastpacaErrorCode } from './fastpaca-error.js';
import { ForbiddenError } from './forbidden-error.js';
import { NotFoundError } from './not-found-error.js';
import { RateLimitedError } from './rate-limited-error.js';
import { UnauthorizedError } from './unauthorized-error.js';
import { UnavailableError } from './unavailable-error.js';

/** The parts of an HTTP error response the SDK reads. */
export interface ErrorResponse {
  status: number;
  /** The raw body; usually `{error, message, details?}`. */
  body: string;
  retryAfter?: string | null;
  requestId?: string | null;
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date names its day and month; without letters, Date.parse would read "-1" as a year.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const codeByStatus = new Map<number, ErrorCode>(
  (Object.entries(errorStatus) as [ErrorCode, number][]).map(([code, status]) => [status, code]),
);

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorStatus, value);
}

function fallbackCode(status: number): FastpacaErrorCode {
  if (status === 502 || status === 504) return 'unavailable';
  return codeByStatus.get(status) ?? (status >= 500 ? 'internal' : 'invalid_request');
}

/** Turns a non-2xx response into the matching typed error. */
export function errorFromResponse(response: ErrorResponse): FastpacaError {
  const { status } = response;
  let parsed: unknown;
  try {
    parsed = response.body ? JSON.parse(response.body) : undefined;
  } catch {
    parsed = undefined;
  }
  const wire = parsed as { error?: unknown; message?: unknown; details?: unknown } | undefined;
  const code = isErrorCode(wire?.error) ? wire.error : fallbackCode(status);
  const message =
    typeof wire?.message === 'string'
      ? wire.message
      : `HTTP ${status}${response.body ? `: ${response.body.slice(0, 200)}` : ''}`;
  const common = {
    message,
    details: wire?.details,
    requestId: response.requestId ?? undefined,
  };
  const retryAfter = parseRetryAfter(response.retryAfter);
  switch (status) {
    case 401:
      return new UnauthorizedError(common);
    case 403:
      return new ForbiddenError(common);
    case 404:
      return new NotFoundError(common);
    case 409:
      return new ConflictError(common);
    case 429:
      return new RateLimitedError({ ...common, retryAfter });
    case 502:
    case 503:
    case 504:
      return new UnavailableError({ ...common, status, retryAfter });
    default:
      return new FastpacaError({ ...common, status, code });
  }
}
