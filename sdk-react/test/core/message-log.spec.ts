// @vitest-environment node
import type { Message } from '@fastpaca/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasSeq, keepNewest, mergeMessages } from '../../src/core/message-log.js';

const message = (seq: number): Message => ({
  seq,
  role: 'user',
  parts: [{ type: 'text', text: `m${seq}` }],
  metadata: {},
  token_count: 1,
  inserted_at: '2025-01-01T00:00:00.000Z',
});

const seqs = fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 40 });

describe('message log – merge', () => {
  it('merge – any interleaving of pages, replays and live events gives each seq once, ascending', () => {
    fc.assert(
      fc.property(fc.array(seqs, { maxLength: 8 }), (batches) => {
        let log: readonly Message[] = [];
        const expected = new Set<number>();
        for (const batch of batches) {
          log = mergeMessages(log, batch.map(message));
          for (const seq of batch) expected.add(seq);
        }
        expect(log.map((m) => m.seq)).toEqual([...expected].sort((a, b) => a - b));
        for (const seq of expected) expect(hasSeq(log, seq)).toBe(true);
        expect(hasSeq(log, 0)).toBe(false);
        expect(hasSeq(log, 61)).toBe(false);
      }),
      { seed: 42, numRuns: 300, verbose: true },
    );
  });

  it('merge – returns the same array when nothing is new, and keeps loaded objects', () => {
    const first = mergeMessages([], [message(1), message(2), message(3)]);
    expect(mergeMessages(first, [message(2), message(3)])).toBe(first);
    const more = mergeMessages(first, [message(2), message(4)]);
    expect(more.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(more[1]).toBe(first[1]);
  });

  it('keepNewest – drops the oldest beyond the bound', () => {
    const log = mergeMessages([], [1, 2, 3, 4, 5].map(message));
    expect(keepNewest(log, 3).map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(keepNewest(log, 5)).toBe(log);
  });
});
