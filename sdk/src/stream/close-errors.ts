import { type ErrorFrame, errorStatus, streamCloseCodes } from '@fastpaca/contract';
import { errorFromResponse } from '../errors/error-from-response.js';
import { type FastpacaError, isRetryableStatus } from '../errors/fastpaca-error.js';

/** An `error` frame as the typed error a REST call with the same code would throw. */
export function errorFromFrame(frame: ErrorFrame): FastpacaError {
  return errorFromResponse({
    status: errorStatus[frame.error],
    body: JSON.stringify({ error: frame.error, message: frame.message }),
  });
}

/**
 * Close codes named after an error code that no retry fixes (`invalid_request`,
 * `unauthorized`, `forbidden`, `not_found`), with that error's HTTP status:
 * read off the contract, so a code added there needs no edit here.
 */
const closeStatus = new Map<number, number>(
  Object.entries(streamCloseCodes).flatMap(([name, code]) => {
    const status = (errorStatus as Record<string, number | undefined>)[name];
    return status !== undefined && !isRetryableStatus(status) ? [[code, status] as const] : [];
  }),
);

/**
 * The typed error behind a close code that no reconnect can fix, or
 * undefined for the codes that are worth reconnecting after (heartbeat
 * timeout, slow consumer, unavailable, going away, abnormal closure).
 */
export function errorFromCloseCode(code: number, reason: string): FastpacaError | undefined {
  const status = closeStatus.get(code);
  if (status === undefined) return undefined;
  return errorFromResponse({
    status,
    body: JSON.stringify({ message: reason || `stream closed with ${code}` }),
  });
}
