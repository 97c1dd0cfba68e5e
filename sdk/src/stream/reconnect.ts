import { type BackoffOptions, backoffDelay, validateBackoff } from '../util/backoff.js';

export interface ReconnectOptions extends BackoffOptions {
  /** Consecutive failed attempts before the subscription gives up with an error. */
  maxAttempts: number;
}

export const defaultReconnectOptions: ReconnectOptions = {
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxAttempts: 100,
};

export function resolveReconnectOptions(input: Partial<ReconnectOptions> | undefined): ReconnectOptions {
  const options = { ...defaultReconnectOptions, ...input };
  if (!(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
    throw new Error('@fastpaca/sdk: reconnect.maxAttempts must be a positive integer');
  }
  validateBackoff(options, 'reconnect');
  return options;
}

/**
 * Owns the one reconnect timer of a subscription. Attempts count failures in
 * a row; any progress (a delivered version) resets them, so an outage of any
 * length is survived while a server that keeps refusing is given up on.
 */
export class Reconnector {
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: ReconnectOptions,
    private readonly random: () => number,
  ) {}

  get attemptsInARow(): number {
    return this.attempts;
  }

  /** Runs `fn` after the next backoff delay; returns false (and runs nothing) once attempts are used up. */
  schedule(fn: () => void): boolean {
    this.cancel();
    if (this.attempts >= this.options.maxAttempts) return false;
    const delay = backoffDelay(this.attempts, this.options, this.random);
    this.attempts++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      fn();
    }, delay);
    return true;
  }

  succeeded(): void {
    this.attempts = 0;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
