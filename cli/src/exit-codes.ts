import {
  ConflictError,
  FastpacaError,
  ForbiddenError,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
} from '@fastpaca/sdk';
import { UsageError } from './args.js';

/** What the exit status means, so scripts can branch on it without parsing messages. */
export const ExitCode = {
  ok: 0,
  /** A bug, a server-side 500, an unexpected answer. */
  error: 1,
  /** Bad flags, arguments or input (including a 400 or 413 from the server). */
  usage: 2,
  notFound: 3,
  /** A version mismatch (`--if-version`), or a write to a deleted context. */
  conflict: 4,
  /** 401 (missing or wrong credentials) or 403 (a scoped token without the right). */
  auth: 5,
  /** Unreachable, unavailable (no quorum, no leader) or rate limited after the SDK's retries: try again later. */
  unavailable: 6,
} as const;

/** `isInstance` rather than `instanceof`: it also recognises errors from another copy of the SDK. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.usage;
  if (NotFoundError.isInstance(error)) return ExitCode.notFound;
  if (ConflictError.isInstance(error)) return ExitCode.conflict;
  if (UnauthorizedError.isInstance(error) || ForbiddenError.isInstance(error)) return ExitCode.auth;
  if (
    NetworkError.isInstance(error) ||
    UnavailableError.isInstance(error) ||
    RateLimitedError.isInstance(error)
  ) {
    return ExitCode.unavailable;
  }
  if (FastpacaError.isInstance(error) && (error.status === 400 || error.status === 413)) {
    return ExitCode.usage;
  }
  return ExitCode.error;
}

/** A machine-readable code for `--json` error output: the server's code, or one of ours. */
export function errorCode(error: unknown): string {
  if (error instanceof UsageError) return 'usage';
  if (FastpacaError.isInstance(error)) return error.code;
  return 'internal';
}

/** The one-line explanation printed on stderr. */
export function errorMessage(error: unknown): string {
  if (NetworkError.isInstance(error)) return `cannot reach the server: ${error.message}`;
  if (ConflictError.isInstance(error) && error.isVersionMismatch) {
    return `version mismatch: expected ${error.expected}, the context is at ${error.found}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
