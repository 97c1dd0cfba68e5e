import { describe, expect, it } from 'vitest';
import { benchRaft } from '../../src/sim/bench-raft.js';

describe('core throughput', () => {
  it('performance – 256 groups × 3 replicas in one process commit thousands of proposals per second', () => {
    const r = benchRaft(20_000, 256);
    // Typically ~150k/s; the bound only catches order-of-magnitude regressions.
    expect(r.proposalsPerSecond).toBeGreaterThan(5_000);
    // An idle tick of all 768 replicas must stay far below the tick interval (100 ms).
    expect(r.idleTicksPerSecond).toBeGreaterThan(100);
  });
});
