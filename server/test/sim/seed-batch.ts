import { describe, expect, it } from 'vitest';
import { runSeed, type SimOptions } from '../../src/sim/simulator.js';

/**
 * Declares one test per `chunk` seeds of [from, from + count): each runs the
 * simulator on those seeds and lists every failing seed with its replay
 * command. Profiles are spread over several files so they run in parallel.
 */
export function seedBatch(
  profile: string,
  from: number,
  count: number,
  chunk = 100,
  options: Omit<SimOptions, 'seed' | 'profile'> = {},
): void {
  describe(`simulator – ${profile} seeds ${from}..${from + count - 1}`, () => {
    for (let start = from; start < from + count; start += chunk) {
      const end = Math.min(from + count, start + chunk) - 1;
      it(`simulator – ${profile} seeds ${start}..${end} pass every safety, history and liveness check`, async () => {
        const failures: string[] = [];
        for (let seed = start; seed <= end; seed++) {
          const r = await runSeed(seed, { ...options, profile });
          // A simulation never leaves the microtask queue: yield so the test worker can answer its runner.
          await new Promise((resolve) => setImmediate(resolve));
          if (!r.ok) {
            failures.push(
              `seed ${seed} [${r.failure!.checker}] ${r.failure!.message.split('\n')[0]}\n` +
                `  replay: npm run sim -- --seed ${seed} --seeds 1 --profile ${profile} --verbose`,
            );
          }
        }
        expect(failures).toEqual([]);
      }, 240_000);
    }
  });
}
