import { type ErrorFrame, errorStatus, streamCloseCodes } from '@fastpaca/contract';
import { errorFromResponse } from '../errors/error-from-response.js';
import type { FastpacaError } from '../errors/fastpaca-error.js';

/** An `error` frame as the typed error a REST call with the same code would throw. */
export function errorFromFrame(frame: ErrorFrame): FastpacaError {
  return errorFromResponse({
    status: errorStatus[frame.error],
    body: JSON.stringify({ error: frame.error, message: frame.message }),
  });
}

const closeStatus = new Map<number, number>([
  [streamCloseCodes.invalid_request, 400],
  [streamCloseCodes.unauthorized, 401],
  [streamCloseCodes.forbidden, 403],
  [streamCloseCodes.not_found, 404],
]);

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
