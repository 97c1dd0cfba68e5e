import { FastpacaError } from '../errors/fastpaca-error.js';
import { RateLimitedError } from '../errors/rate-limited-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import { abortReason, sleep } from '../util/abort.js';
import { type RetryOptions, retryDelay } from './retry-policy.js';

export interface RetryContext {
  signal?: AbortSignal | undefined;
  random: () => number;
  /**
   * False for writes that must not be applied twice (compaction): only errors
   * proving the request took no effect are retried — a 429, or a 503 whose
   * details say `outcome: "not_applied"` — never a timeout or a lost connection.
   */
  idempotent?: boolean;
  /**
   * Epoch milliseconds after which no retry starts: the server remembers an
   * idempotency key for a limited time, and a retry sent after it forgot the
   * key would append twice. The last error is thrown instead.
   */
  retryUntil?: number;
  now?: () => number;
}

function provablyNotApplied(error: FastpacaError): boolean {
  if (RateLimitedError.isInstance(error)) return true;
  const details = error.details as { outcome?: unknown } | undefined;
  return UnavailableError.isInstance(error) && details?.outcome === 'not_applied';
}

/**
 * Runs `attempt` until it succeeds, fails with an error that is not
 * retryable, or `maxAttempts` is reached; the last error is thrown as is.
 * Aborting the signal stops a pending wait at once.
 */
export async function withRetry<T>(
  attempt: (index: number) => Promise<T>,
  options: RetryOptions,
  context: RetryContext,
): Promise<T> {
  for (let index = 0; ; index++) {
    try {
      return await attempt(index);
    } catch (error) {
      const last = index + 1 >= options.maxAttempts;
      if (last || !FastpacaError.isInstance(error) || !error.isRetryable) throw error;
      if (context.idempotent === false && !provablyNotApplied(error)) throw error;
      if (context.signal?.aborted) throw abortReason(context.signal);
      const retryAfter =
        RateLimitedError.isInstance(error) || UnavailableError.isInstance(error)
          ? error.retryAfter
          : undefined;
      const delay = retryDelay(index, options, context.random, retryAfter);
      if (context.retryUntil !== undefined && (context.now ?? Date.now)() + delay > context.retryUntil)
        throw error;
      await sleep(delay, context.signal);
    }
  }
}
