import { type BackoffOptions, backoffDelay, validateBackoff } from '../util/backoff.js';

/** How failed requests are retried: network errors, 408, 429, 502, 503 and 504 only. */
export interface RetryOptions extends BackoffOptions {
  /** Attempts in total, the first included; 1 turns retries off. */
  maxAttempts: number;
}

export const defaultRetryOptions: RetryOptions = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 8_000 };

/** Fills in defaults; `false` means a single attempt. */
export function resolveRetryOptions(input: Partial<RetryOptions> | false | undefined): RetryOptions {
  if (input === false) return { ...defaultRetryOptions, maxAttempts: 1 };
  const options = { ...defaultRetryOptions, ...input };
  if (!(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1 && options.maxAttempts <= 1_000)) {
    throw new Error('@fastpaca/sdk: retry.maxAttempts must be an integer between 1 and 1000');
  }
  validateBackoff(options, 'retry');
  return options;
}

/**
 * The wait before retry number `attempt`: the jittered backoff, but never less
 * than what the server asked for with `Retry-After`, and never more than the cap.
 */
export function retryDelay(
  attempt: number,
  options: RetryOptions,
  random: () => number,
  retryAfterSeconds: number | undefined,
): number {
  const backoff = backoffDelay(attempt, options, random);
  const asked = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
  return Math.min(Math.max(backoff, asked), options.maxDelayMs);
}
