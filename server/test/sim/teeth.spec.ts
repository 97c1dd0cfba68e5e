import { describe, expect, it } from 'vitest';
import { BUG_NAMES, type BugName } from '../../src/raft/bugs.js';
import type { CheckerName } from '../../src/sim/checkers.js';
import { runSeed } from '../../src/sim/simulator.js';

/** Every checker that judges safety (liveness failures and crashes do not count as catching a bug). */
const SAFETY: readonly CheckerName[] = [
  'election_safety',
  'log_matching',
  'leader_completeness',
  'state_machine_safety',
  'commit_monotonic',
  'snapshot_atomicity',
  'state_digest',
  'linearizability',
  'append_log',
  'monotonic_reads',
  'acknowledgement',
  'durability',
  'storage_integrity',
];

/** The seed budget each case may use; CI runs exactly this. */
const MAX_SEEDS = 300;

/**
 * Each classic consensus or storage bug, switched on in every node of the
 * shipping code, must be caught by a safety checker within MAX_SEEDS seeds of
 * the profile that aims at it. Proves the checks are not vacuous.
 */
const cases: Record<BugName, string> = {
  // Figure 8 needs an old-term entry on a majority, then a newer leader: the figure8 profile provokes it.
  commit_old_term: 'figure8',
  vote_not_persisted: 'storage',
  ack_before_durable: 'membership',
  commit_without_quorum: 'mixed',
  apply_uncommitted: 'mixed',
  vote_without_log_check: 'figure8',
  heartbeat_full_commit: 'figure8',
  follower_commit_past_new: 'mixed',
  // Two uncommitted changes differ by two voters; racing changes and cut-off leaders expose it.
  concurrent_conf_changes: 'membership',
  ack_matched_by_index: 'figure8',
  read_without_quorum: 'reads',
  read_before_term_commit: 'reads',
  // Needs damage in the middle of the log: bit flips.
  wal_truncates_valid_frames: 'storage',
  wal_acks_short_write: 'storage',
};

describe('teeth', () => {
  it('teeth – every bug switch has a case', () => {
    expect(Object.keys(cases).sort()).toEqual([...BUG_NAMES].sort());
  });

  for (const bug of BUG_NAMES) {
    const profile = cases[bug];
    it(`teeth – the simulator catches ${bug} within ${MAX_SEEDS} ${profile} seeds`, async () => {
      let caught: { seed: number; checker: CheckerName; message: string } | undefined;
      const other: string[] = [];
      for (let seed = 1; seed <= MAX_SEEDS && !caught; seed++) {
        const r = await runSeed(seed, { bugs: [bug], profile });
        if (r.ok) continue;
        const f = r.failure!;
        if (SAFETY.includes(f.checker)) caught = { seed, checker: f.checker, message: f.message };
        else other.push(`${seed}:${f.checker}`);
      }
      expect(caught, `no safety checker caught ${bug} (other failures: ${other.join(', ')})`).toBeDefined();
      console.info(
        `${bug}: caught by ${caught!.checker} at ${profile} seed ${caught!.seed}: ${caught!.message.split('\n')[0]}`,
      );
    }, 240_000);
  }
});
