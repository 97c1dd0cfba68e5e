import { describe, expect, it } from 'vitest';
import { type GroupProgress, stillConverging } from '../../src/sim/liveness.js';

const progress = (commit: number, applied: Record<string, number>, probePending = false): GroupProgress => ({
  commit,
  applied: new Map(Object.entries(applied)),
  members: ['n1', 'n2', 'n3'],
  probePending,
});

describe('liveness – a group still converging when the window closes', () => {
  it('a backlog draining: the probe waits while the commit index advances, laggards apply more', () => {
    const before = progress(120, { n1: 120, n2: 118, n3: 112 }, true);
    expect(stillConverging(before, progress(145, { n1: 145, n2: 145, n3: 140 }, true))).toBe(true);
    // The probe committed; only a member behind is left, and it keeps applying.
    expect(stillConverging(before, progress(145, { n1: 145, n2: 145, n3: 143 }))).toBe(true);
  });

  it('a member that applied nothing more is stuck, even while the others commit', () => {
    const before = progress(120, { n1: 120, n2: 118, n3: 112 });
    expect(stillConverging(before, progress(145, { n1: 145, n2: 145, n3: 112 }))).toBe(false);
  });

  it('a probe waiting while nothing commits is stuck', () => {
    const before = progress(120, { n1: 120, n2: 120, n3: 120 }, true);
    expect(stillConverging(before, progress(120, { n1: 120, n2: 120, n3: 120 }, true))).toBe(false);
  });

  it('a member whose node is down, or a group without a leader, is not converging', () => {
    const before = progress(120, { n1: 120, n2: 118, n3: 112 });
    expect(stillConverging(before, progress(145, { n1: 145, n2: 145 }))).toBe(false);
    expect(stillConverging(undefined, progress(145, { n1: 145, n2: 145, n3: 140 }))).toBe(false);
    expect(stillConverging(before, undefined)).toBe(false);
  });
});
