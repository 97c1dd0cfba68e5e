import { describe, expect, it } from 'vitest';
import { runSeed, type SimStats } from '../../src/sim/simulator.js';

async function totals(profile: string, seeds: number): Promise<SimStats> {
  let total: SimStats | undefined;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = await runSeed(seed, { profile });
    expect(r.ok, `${profile} seed ${seed}: ${r.failure?.message}`).toBe(true);
    if (!total) total = { ...r.stats };
    else for (const k of Object.keys(total) as (keyof SimStats)[]) total[k] += r.stats[k];
  }
  return total!;
}

describe('simulation', () => {
  it('simulator – a run is a pure function of its seed and profile', async () => {
    const a = await runSeed(11, { trace: true, profile: 'hell' });
    const b = await runSeed(11, { trace: true, profile: 'hell' });
    expect(a.stats).toEqual(b.stats);
    expect(a.trace).toEqual(b.trace);
    expect((await runSeed(12, { profile: 'hell' })).stats).not.toEqual(a.stats);
  });

  it('simulator – the mixed profile exercises every network, node and protocol path', async () => {
    const t = await totals('mixed', 60);
    for (const k of [
      'crashes',
      'partitions',
      'connectionResets',
      'confChanges',
      'transfers',
      'snapshotsInstalled',
      'compactions',
      'elections',
      'tornWrites',
      'shortWrites',
      'opsAcked',
      'readsAcked',
      'opsUnknown',
    ] as const) {
      expect(t[k], k).toBeGreaterThan(0);
    }
  });

  it('simulator – the storage profile injects every disk fault, detects the damage and rebuilds', async () => {
    const t = await totals('storage', 60);
    for (const k of [
      'tornWrites',
      'shortWrites',
      'ioErrors',
      'diskFull',
      'bitFlips',
      'corruptionsDetected',
      'storageFailures',
      'wipes',
      'snapshotsInstalled',
      'opsAcked',
    ] as const) {
      expect(t[k], k).toBeGreaterThan(0);
    }
  });

  it('simulator – the membership profile moves replicas and races changes', async () => {
    const t = await totals('membership', 40);
    for (const k of [
      'confChanges',
      'confChangesRefused',
      'snapshotsInstalled',
      'wipes',
      'transfers',
    ] as const) {
      expect(t[k], k).toBeGreaterThan(0);
    }
  });

  it('simulator – the hell profile pauses processes on drifting clocks among everything else', async () => {
    const t = await totals('hell', 40);
    for (const k of [
      'pauses',
      'crashes',
      'partitions',
      'confChanges',
      'bitFlips',
      'storageFailures',
    ] as const) {
      expect(t[k], k).toBeGreaterThan(0);
    }
  });

  it('simulator – liveness: a cluster that does not commit within the bound fails the seed', async () => {
    const r = await runSeed(3, { scenario: { livenessMs: 1 } });
    expect(r.ok).toBe(false);
    expect(r.failure!.checker).toBe('liveness');
  });
});
