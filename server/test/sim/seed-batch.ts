import { describe, expect, it } from 'vitest';
import { runSeed, type SimOptions } from '../../src/sim/simulator.js';

/**
 * Declares one test per `chunk` seeds of [from, from + count): each runs the
 * simulator on those seeds and lists every failing seed with its replay command.
 * Spread over several files so the seeds run in parallel workers.
 */
export function seedBatch(
  from: number,
  count: number,
  chunk = 100,
  options: Omit<SimOptions, 'seed'> = {},
): void {
  describe(`simulator seeds ${from}..${from + count - 1}`, () => {
    for (let start = from; start < from + count; start += chunk) {
      const end = Math.min(from + count, start + chunk) - 1;
      it(`simulator – seeds ${start}..${end} pass every safety, history and liveness check`, () => {
        const failures: string[] = [];
        for (let seed = start; seed <= end; seed++) {
          const r = runSeed(seed, options);
          if (!r.ok) {
            const profile =
              options.profile && options.profile !== 'mixed' ? ` --profile ${options.profile}` : '';
            failures.push(
              `seed ${seed} [${r.failure!.checker}] ${r.failure!.message.split('\n')[0]}\n` +
                `  replay: npm run sim -- --seed ${seed} --seeds 1 --verbose${profile}`,
            );
          }
        }
        expect(failures).toEqual([]);
      });
    }
  });
}
