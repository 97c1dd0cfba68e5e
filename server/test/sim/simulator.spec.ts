import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/sim/simulator.js';
import { seedBatch } from './seed-batch.js';

describe('Simulation', () => {
  it('simulator – a run is a pure function of its seed', () => {
    const a = runSeed(11, { trace: true });
    const b = runSeed(11, { trace: true });
    expect(a.stats).toEqual(b.stats);
    expect(a.trace).toEqual(b.trace);
    expect(runSeed(12).stats).not.toEqual(a.stats);
  });

  it('simulator – the seed mix exercises every fault and protocol path', () => {
    const total = {
      crashes: 0,
      partitions: 0,
      confChanges: 0,
      transfers: 0,
      snapshotsInstalled: 0,
      compactions: 0,
      elections: 0,
      opsAcked: 0,
      readsAcked: 0,
      opsUnknown: 0,
    };
    const sizes = new Set<string>();
    for (let seed = 1; seed <= 150; seed++) {
      const r = runSeed(seed);
      expect(r.ok).toBe(true);
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r.stats[k];
      sizes.add(r.scenario.split(' (')[0]!);
    }
    for (const [k, v] of Object.entries(total)) expect(v, k).toBeGreaterThan(0);
    expect([...sizes].some((s) => s.startsWith('3 nodes'))).toBe(true);
    expect([...sizes].some((s) => s.startsWith('5 nodes'))).toBe(true);
    expect([...sizes].some((s) => s.includes('256 groups'))).toBe(true);
  });

  it('simulator – liveness: a cluster that does not commit within the bound fails the seed', () => {
    const r = runSeed(3, { scenario: { livenessMs: 1 } });
    expect(r.ok).toBe(false);
    expect(r.failure!.checker).toBe('liveness');
  });
});

// The Figure 8 profile is correct code under heavy targeted faults: it must pass too.
seedBatch(1, 60, 30, { profile: 'figure8' });
