import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MessageInput } from '@fastpaca/contract';
import { Piscina } from 'piscina';
import type { PreparedMessage, TokenEstimator } from '../context/index.js';
import { loadEstimator, prepareMessage } from '../context/index.js';

/**
 * Counts tokens before a message enters the log, so replicas never do. Small
 * messages (the common case, ~10 µs) are counted inline; large ones go to a
 * worker pool so one huge request cannot stall every other context on the
 * event loop.
 */
export class TokenCounter {
  private constructor(
    readonly estimator: TokenEstimator,
    private readonly pool: Piscina | undefined,
    private readonly inlineBytesMax: number,
    private readonly onOffload: (() => void) | undefined,
  ) {}

  static async create(
    spec: string,
    options: { inline_bytes_max?: number; threads_max?: number; onOffload?: () => void } = {},
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
    return new TokenCounter(estimator, pool, options.inline_bytes_max ?? 16 * 1024, options.onOffload);
  }

  async prepare(input: MessageInput): Promise<PreparedMessage> {
    if (input.token_count !== undefined || !this.pool) return prepareMessage(this.estimator, input);
    let size = 0;
    for (const part of input.parts) {
      size += typeof part.text === 'string' ? part.text.length : JSON.stringify(part).length;
      if (size > this.inlineBytesMax) break;
    }
    if (size <= this.inlineBytesMax) return prepareMessage(this.estimator, input);
    this.onOffload?.();
    const partTokens = (await this.pool.run(input.parts)) as number[];
    return {
      role: input.role,
      parts: input.parts,
      metadata: input.metadata ?? {},
      token_count: partTokens.reduce((sum, n) => sum + n, 0),
      part_tokens: partTokens,
    };
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
