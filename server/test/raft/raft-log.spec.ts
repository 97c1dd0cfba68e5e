import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../src/raft/raft-log.js';
import type { Entry, Snapshot } from '../../src/raft/types.js';

const e = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array(index),
});
const snap = (index: number, term: number): Snapshot => ({
  meta: { index, term, conf: { voters: ['a'], learners: [] }, checksum: 0 },
  data: new Uint8Array(0),
});

describe('RaftLog', () => {
  it('RaftLog – term lookups by offset, including the snapshot boundary', () => {
    const log = new RaftLog(snap(10, 2), [e(11, 2), e(12, 3)], 10, 10);
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(12);
    expect(log.term(10)).toBe(2);
    expect(log.term(12)).toBe(3);
    expect(log.term(9)).toBeUndefined();
    expect(log.term(13)).toBeUndefined();
  });

  it('RaftLog – append replaces a conflicting suffix and reports where it cut', () => {
    const log = new RaftLog(snap(0, 0), [], 0, 0);
    expect(log.append([e(1, 1), e(2, 1), e(3, 1)])).toBe(0);
    log.takeUnstable();
    expect(log.append([e(2, 2)])).toBe(2);
    expect(log.lastIndex()).toBe(2);
    expect(log.term(2)).toBe(2);
    expect(log.takeUnstable().map((x) => x.index)).toEqual([2]);
  });

  it('RaftLog – never overwrites committed entries', () => {
    const log = new RaftLog(snap(0, 0), [e(1, 1), e(2, 1)], 2, 0);
    expect(() => log.append([e(2, 2)])).toThrow(/committed/);
  });

  it('RaftLog – slice respects byte and count limits but never returns nothing', () => {
    const log = new RaftLog(snap(0, 0), [e(1, 1), e(2, 1), e(3, 1), e(4, 1)], 0, 0);
    expect(log.slice(1, 4, 3, 10).map((x) => x.index)).toEqual([1, 2]);
    expect(log.slice(1, 4, 1000, 3).map((x) => x.index)).toEqual([1, 2, 3]);
    expect(log.slice(4, 4, 0, 10).map((x) => x.index)).toEqual([4]);
  });

  it('RaftLog – conflict hints: first index of a term run and last index with a term at most t', () => {
    const log = new RaftLog(snap(0, 0), [e(1, 1), e(2, 2), e(3, 2), e(4, 2), e(5, 4)], 0, 0);
    expect(log.firstIndexOfTermAt(4, 1)).toBe(2);
    expect(log.firstIndexOfTermAt(4, 3)).toBe(3);
    expect(log.lastIndexWithTermAtMost(5, 3)).toBe(4);
    expect(log.lastIndexWithTermAtMost(5, 0)).toBe(0);
  });

  it('RaftLog – compaction drops applied entries, restore replaces everything', () => {
    const log = new RaftLog(snap(0, 0), [e(1, 1), e(2, 1), e(3, 2)], 3, 3);
    log.compactTo(2);
    expect(log.firstIndex()).toBe(3);
    expect(log.term(2)).toBe(1);
    log.restore(snap(9, 5));
    expect(log.lastIndex()).toBe(9);
    expect(log.committed).toBe(9);
    expect(log.applied).toBe(9);
  });

  it('RaftLog – property: matches a plain array model under random appends, truncations and compactions', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('append' as const),
              back: fc.nat(5),
              count: fc.integer({ min: 1, max: 4 }),
            }),
            fc.record({ kind: fc.constant('compact' as const), back: fc.nat(3) }),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          const log = new RaftLog(snap(0, 0), [], 0, 0);
          let model: Entry[] = [];
          let term = 1;
          let unstableFrom = 1;
          for (const op of ops) {
            if (op.kind === 'append') {
              // Never overwrite what is committed (here: everything up to the offset).
              const from = Math.max(log.offset + 1, log.lastIndex() + 1 - op.back);
              term++;
              const batch = Array.from({ length: op.count }, (_, i) => e(from + i, term));
              log.append(batch);
              model = [...model.filter((x) => x.index < from), ...batch];
              unstableFrom = Math.min(unstableFrom, from);
            } else {
              const taken = log.takeUnstable();
              expect(taken.map((x) => x.index)).toEqual(
                model.filter((x) => x.index >= unstableFrom).map((x) => x.index),
              );
              unstableFrom = log.lastIndex() + 1;
              const at = Math.max(log.offset, log.lastIndex() - op.back);
              log.committed = Math.max(log.committed, at);
              log.applied = Math.max(log.applied, at);
              log.compactTo(at);
              model = model.filter((x) => x.index > at);
            }
            expect(log.lastIndex()).toBe(model.length > 0 ? model[model.length - 1]!.index : log.offset);
            for (const x of model) expect(log.term(x.index)).toBe(x.term);
            for (let i = 1; i < model.length; i++)
              expect(model[i]!.term).toBeGreaterThanOrEqual(model[i - 1]!.term);
          }
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
