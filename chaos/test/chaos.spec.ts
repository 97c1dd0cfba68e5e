import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalReport } from '../src/checkers/index.js';
import { NEMESIS_KINDS, type NemesisKind, type Target } from '../src/nemesis.js';
import { type ChaosOptions, runChaos } from '../src/run.js';

const PLANTED = ['ack_before_quorum', 'stale_follower_reads', 'forward_retry_without_key'] as const;

function options(o: Partial<ChaosOptions> & Pick<ChaosOptions, 'seed' | 'durationS'>): ChaosOptions {
  return {
    nodes: 3,
    nemesis: [...NEMESIS_KINDS],
    contexts: 3,
    clients: 8,
    maxOps: 1_000_000,
    plantedBugs: [],
    outDir: mkdtempSync(join(tmpdir(), 'fastpaca-chaos-')),
    log: () => {},
    ...o,
  };
}

describe('chaos – real processes under a mixed nemesis', () => {
  it('finds nothing wrong in 60 s of every fault, archive included (the production entry point ignores planted-bug names)', async () => {
    const result = await runChaos(
      options({
        seed: 20261203,
        durationS: 60,
        archive: true,
        plantedBugs: [...PLANTED],
        plantedEntry: false,
      }),
    );
    expect(result.anomalies, minimalReport(result.anomalies)).toEqual([]);
    expect(result.stats.appendsAcknowledged).toBeGreaterThan(200);
    expect(result.executed.length).toBeGreaterThanOrEqual(5);
    expect(result.finals.every((f) => f.texts.length > 0)).toBe(true);
  }, 300_000);
});

/**
 * Each bug planted in every node must be found by the checkers within a short
 * schedule of the faults that expose it (or, when real-process timing makes
 * the first schedule miss, within a second one).
 */
const exposing: Record<
  (typeof PLANTED)[number],
  { nemesis: NemesisKind[]; checkers: string[]; targets?: Target[] }
> = {
  // A leader cut off with its clients acknowledges alone; the majority's new leader never saw those appends.
  ack_before_quorum: {
    // Twice as many partitions as kills: a partition's whole length is a window for lost acks.
    nemesis: ['partition', 'partition', 'kill'],
    targets: ['leader'],
    checkers: ['log', 'linearizable', 'liveness', 'replicas', 'stream'],
  },
  // A replica behind (or cut off) answers reads with an old log.
  stale_follower_reads: { nemesis: ['partition'], checkers: ['linearizable', 'monotonic'] },
  // A broken link leaves a forwarded append's outcome unknown; the retry without its key appends it again.
  forward_retry_without_key: { nemesis: ['flap', 'one-way', 'kill'], checkers: ['log'] },
};

describe('chaos – planted bugs are caught', () => {
  for (const bug of PLANTED) {
    it(`catches ${bug}`, async () => {
      const { nemesis, checkers, targets } = exposing[bug];
      // Real processes are not deterministic: when a schedule happens to miss the window that exposes
      // the bug, a second schedule (another seed) gets a chance. Both missing it fails the test.
      const misses: string[] = [];
      for (const seed of [7, 8]) {
        const result = await runChaos(
          options({ seed, durationS: 35, nemesis, plantedBugs: [bug], ...(targets && { targets }) }),
        );
        const found = result.anomalies.filter((a) => checkers.includes(a.checker));
        if (found.length > 0) {
          console.info(
            `${bug}: seed ${seed}, ${result.anomalies.length} anomalies, first: ${found[0]!.checker}: ${found[0]!.message}`,
          );
          return;
        }
        const faults = result.executed.map((e) => e.description).join('; ');
        misses.push(`seed ${seed}: ${minimalReport(result.anomalies)}; faults: ${faults}`);
      }
      expect.fail(`no ${checkers.join('/')} anomaly for ${bug}:\n${misses.join('\n')}`);
    }, 600_000);
  }
});
