import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/raft/prng.js';

describe('Prng', () => {
  it('Prng – the same seed gives the same stream', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    for (let i = 0; i < 100; i++) expect(a.nextU32()).toBe(b.nextU32());
  });

  it('Prng – different seeds give different streams', () => {
    const a = new Prng(1);
    const b = new Prng(2);
    const same = Array.from({ length: 20 }, () => a.nextU32() === b.nextU32()).filter(Boolean).length;
    expect(same).toBeLessThan(3);
  });

  it('Prng – int stays in range and covers it', () => {
    const p = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = p.int(10);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(10);
      seen.add(x);
    }
    expect(seen.size).toBe(10);
  });

  it('Prng – float is in [0, 1) and roughly uniform', () => {
    const p = new Prng(9);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = p.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      sum += f;
    }
    expect(sum / 10_000).toBeGreaterThan(0.45);
    expect(sum / 10_000).toBeLessThan(0.55);
  });

  it('Prng – fork gives an independent, reproducible stream', () => {
    const a = new Prng(3).fork();
    const b = new Prng(3).fork();
    expect(a.nextU32()).toBe(b.nextU32());
    expect(() => new Prng(1.5)).toThrow();
    expect(() => new Prng(1).int(0)).toThrow();
  });
});
