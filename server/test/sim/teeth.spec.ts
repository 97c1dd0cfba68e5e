import { describe, expect, it } from 'vitest';
import type { BugName } from '../../src/raft/bugs.js';
import type { CheckerName } from '../../src/sim/checkers.js';
import { runSeed } from '../../src/sim/simulator.js';

const SAFETY: readonly CheckerName[] = [
  'election_safety',
  'log_matching',
  'leader_completeness',
  'state_machine_safety',
  'commit_monotonic',
  'linearizability',
  'append_log',
];
const MAX_SEEDS = 200;

/**
 * Each classic Raft bug, switched on in every replica, must be caught by one of
 * the safety checkers within MAX_SEEDS seeds. Proves the checks are not vacuous.
 */
const cases: { bug: BugName; profile: string }[] = [
  // Figure 8 needs a precise interleaving; the figure8 profile provokes it.
  { bug: 'commit_old_term', profile: 'figure8' },
  { bug: 'vote_not_persisted', profile: 'mixed' },
  { bug: 'ack_before_durable', profile: 'mixed' },
  { bug: 'apply_uncommitted', profile: 'mixed' },
];

describe('teeth', () => {
  for (const { bug, profile } of cases) {
    it(`teeth – the simulator catches ${bug} within ${MAX_SEEDS} seeds`, () => {
      let caught: { seed: number; checker: CheckerName; message: string } | undefined;
      const other: string[] = [];
      for (let seed = 1; seed <= MAX_SEEDS && !caught; seed++) {
        const r = runSeed(seed, { bugs: [bug], profile });
        if (r.ok) continue;
        const f = r.failure!;
        if (SAFETY.includes(f.checker)) caught = { seed, checker: f.checker, message: f.message };
        else other.push(`${seed}:${f.checker}`);
      }
      expect(caught, `no safety checker caught ${bug} (other failures: ${other.join(', ')})`).toBeDefined();
      console.info(
        `${bug}: caught by ${caught!.checker} at seed ${caught!.seed} (${profile}): ${caught!.message}`,
      );
    }, 120_000);
  }
});
