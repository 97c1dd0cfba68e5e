import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/sim/simulator.js';

/**
 * Seeds that once failed in a long run, replayed on every CI run so what they
 * found stays fixed. Each names the profile it failed in and what it found.
 */
const FOUND: readonly { seed: number; profile: string; found: string }[] = [
  {
    seed: 100_416,
    profile: 'membership',
    found: 'a destroyed replica id proposed again (ids are never reused)',
  },
  {
    seed: 100_722,
    profile: 'hell',
    found: 'a learner whose replica was destroyed stayed in the configuration',
  },
  {
    seed: 1_024_584,
    profile: 'mixed',
    found: "a fresh voter destroyed on a stale leader's older configuration (removal evidence must be newer)",
  },
  {
    seed: 1_041_447,
    profile: 'mixed',
    found: "an added replica destroyed as an orphan on a stale leader's view",
  },
  {
    seed: 1_007_278,
    profile: 'storage',
    found: 'a replica created for an addition that a later leader dropped was never added again',
  },
  {
    seed: 1_013_916,
    profile: 'storage',
    found: 'a replica created for an addition that a later leader dropped was never added again',
  },
  {
    seed: 1_001_016,
    profile: 'hell',
    found: "a write queued before a group's removal deleted its snapshot file before the removal was durable",
  },
  {
    seed: 1_007_078,
    profile: 'hell',
    found: "a write queued before a group's removal deleted its snapshot file before the removal was durable",
  },
  {
    seed: 2_004_026,
    profile: 'reads',
    found:
      'a follower still applying a backlog (one entry in flight, slow disks) failed the fixed liveness window',
  },
  {
    seed: 2_007_161,
    profile: 'reads',
    found:
      "a probe queued behind an isolated leader's backlog failed the fixed liveness window while it drained",
  },
  {
    seed: 5_002_364,
    profile: 'figure8',
    found:
      "learners still catching up on a lone voter's log (one entry in flight) failed the fixed liveness window",
  },
  {
    seed: 2_071_055,
    profile: 'reads',
    found:
      "a learner that missed its own promotion restarted its election timer every timeout, so it kept the old leader's lease and ignored that leader's campaigns",
  },
];

describe('simulator – seeds found in long runs', () => {
  for (const { seed, profile, found } of FOUND) {
    it(`${profile} seed ${seed}: ${found}`, async () => {
      const r = await runSeed(seed, { profile });
      expect(r.failure?.message).toBeUndefined();
    });
  }
});
