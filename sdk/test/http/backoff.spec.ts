import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/http/retry-policy.js';
import { backoffDelay } from '../../src/util/backoff.js';

const seed = 42;

describe('backoffDelay – bounded exponential backoff with jitter', () => {
  it('stays within [bound/2, bound] where bound = min(base·2^n, cap)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, extra, r) => {
          const cap = base + extra;
          const bound = Math.min(base * 2 ** Math.min(attempt, 30), cap);
          const delay = backoffDelay(attempt, { baseDelayMs: base, maxDelayMs: cap }, () => r);
          return Number.isFinite(delay) && delay >= Math.floor(bound / 2) && delay <= Math.ceil(bound);
        },
      ),
      { seed, numRuns: 2_000, verbose: true },
    );
  });

  it('grows exponentially until the cap', () => {
    const top = (n: number) => backoffDelay(n, { baseDelayMs: 100, maxDelayMs: 1_000 }, () => 0.999_999);
    expect([0, 1, 2, 3, 4, 10].map(top)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('honours Retry-After, but never beyond the cap', () => {
    const options = { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 5_000 };
    expect(retryDelay(0, options, () => 0, 2)).toBe(2_000);
    expect(retryDelay(0, options, () => 0, 60)).toBe(5_000);
    expect(retryDelay(0, options, () => 0, undefined)).toBe(5);
  });
});
