/** Exponential backoff with a cap: attempt n waits at most `min(base·2^n, cap)`. */
export interface BackoffOptions {
  /** Delay bound of the first retry, in milliseconds. */
  baseDelayMs: number;
  /** No retry ever waits longer than this, in milliseconds. */
  maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry), with "equal
 * jitter": half the bound is fixed and half is random. The fixed half keeps a
 * minimum spacing between attempts; the random half spreads clients that
 * failed together (a server restart) so they do not come back in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  // Past 2^30 the bound is the cap anyway; clamping keeps 2^n finite.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const bound = Math.min(options.baseDelayMs * 2 ** exponent, options.maxDelayMs);
  const half = bound / 2;
  return Math.round(half + random() * half);
}

export function validateBackoff(options: BackoffOptions, name: string): void {
  const { baseDelayMs, maxDelayMs } = options;
  if (!(Number.isFinite(baseDelayMs) && baseDelayMs >= 0)) {
    throw new Error(`@fastpaca/sdk: ${name}.baseDelayMs must be a finite number >= 0`);
  }
  if (!(Number.isFinite(maxDelayMs) && maxDelayMs >= baseDelayMs)) {
    throw new Error(`@fastpaca/sdk: ${name}.maxDelayMs must be a finite number >= baseDelayMs`);
  }
}
