import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MessageInput } from '@fastpaca/contract';
import { Piscina } from 'piscina';
import type { PreparedMessage, TokenEstimator } from '../context/index.js';
import { loadEstimator, preparedWithCounts, prepareMessage } from '../context/index.js';
import { AppError } from '../errors/app-error.js';

/**
 * Counts tokens before a message enters the log, so replicas never do. Small
 * messages (the common case, ~10 µs) are counted inline; large ones go to a
 * worker pool so one huge request cannot stall every other context on the
 * event loop.
 */
export class TokenCounter {
  private closing = false;

  private constructor(
    readonly estimator: TokenEstimator,
    private readonly pool: Piscina | undefined,
    private readonly inlineCharsMax: number,
    private readonly onOffload: (() => void) | undefined,
  ) {}

  static async create(
    spec: string,
    options: { inline_chars_max?: number; threads_max?: number; onOffload?: () => void } = {},
  ) {
    const estimator = await loadEstimator(spec);
    const worker = new URL('./token-worker.js', import.meta.url);
    // The pool needs the compiled worker; in-process tests running from sources count inline.
    const pool = existsSync(fileURLToPath(worker))
      ? new Piscina({
          filename: worker.href,
          workerData: { spec },
          minThreads: 0,
          maxThreads: options.threads_max ?? 2,
          idleTimeout: 30_000,
          maxQueue: 1_000,
        })
      : undefined;
    return new TokenCounter(estimator, pool, options.inline_chars_max ?? 16 * 1024, options.onOffload);
  }

  async prepare(input: MessageInput): Promise<PreparedMessage> {
    if (input.token_count !== undefined || !this.pool) return prepareMessage(this.estimator, input);
    let chars = 0;
    for (const part of input.parts) {
      chars += typeof part.text === 'string' ? part.text.length : JSON.stringify(part).length;
      if (chars > this.inlineCharsMax) break;
    }
    if (chars <= this.inlineCharsMax) return prepareMessage(this.estimator, input);
    if (this.closing) throw new AppError('unavailable', 'node is shutting down', undefined, 1);
    this.onOffload?.();
    let partTokens: number[];
    try {
      partTokens = (await this.pool.run(input.parts)) as number[];
    } catch (error) {
      // The pool's queue is bounded: beyond it, large messages are shed, not queued without limit.
      if (this.closing) throw new AppError('unavailable', 'node is shutting down', undefined, 1);
      throw new AppError(
        'rate_limited',
        `too many large messages are being counted (${(error as Error).message}); retry`,
        undefined,
        1,
      );
    }
    return preparedWithCounts(input, partTokens);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.pool?.destroy();
  }
}
