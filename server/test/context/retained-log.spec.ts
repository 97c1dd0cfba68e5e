import type { Message } from '@fastpaca/contract';
import { describe, expect, it } from 'vitest';
import { RetainedLog } from '../../src/context/retained-log.js';

const message = (seq: number): Message => ({
  seq,
  role: 'user',
  parts: [{ type: 'text', text: String(seq) }],
  metadata: {},
  token_count: 1,
  inserted_at: '2025-01-01T00:00:00.000Z',
});

function logOf(n: number): RetainedLog {
  const log = RetainedLog.empty();
  for (let seq = 1; seq <= n; seq++) log.append(message(seq));
  return log;
}

describe('RetainedLog – dense seqs by index arithmetic', () => {
  it('maps seqs to messages and slices ranges', () => {
    const log = logOf(10);
    expect(log.at(3)!.seq).toBe(3);
    expect(log.at(0)).toBeUndefined();
    expect(log.at(11)).toBeUndefined();
    expect(log.range(4, 6).map((m) => m.seq)).toEqual([4, 5, 6]);
    expect(log.range(-5, 2).map((m) => m.seq)).toEqual([1, 2]);
    expect(log.range(9, 50).map((m) => m.seq)).toEqual([9, 10]);
    expect(log.range(6, 5)).toEqual([]);
  });

  it('rejects an append that is not the next seq', () => {
    const log = logOf(2);
    expect(() => log.append(message(4))).toThrow(/follow last_seq/);
  });

  it('trims the oldest messages, keeping `keep` and nothing past `upto_seq`', () => {
    const log = logOf(10);
    expect(log.trim(3, 4)).toBe(4);
    expect(log.first_seq).toBe(5);
    expect(log.at(4)).toBeUndefined();
    expect(log.trim(3, 100)).toBe(3);
    expect(log.count).toBe(3);
    expect(log.trim(0, 10)).toBe(3);
    expect(log).toMatchObject({ count: 0, first_seq: 11, last_seq: 10 });
    log.append(message(11));
    expect(log.range(1, 100).map((m) => m.seq)).toEqual([11]);
  });

  it('stays correct across backing-array compaction', () => {
    const log = logOf(5_000);
    for (let upto = 100; upto <= 4_900; upto += 100) log.trim(50, upto);
    expect(log.first_seq).toBe(4_901);
    expect(log.range(4_950, 4_952).map((m) => m.seq)).toEqual([4_950, 4_951, 4_952]);
    expect(log.toArray()).toHaveLength(100);
  });

  it('restore – rebuilds from the retained messages and rejects gaps', () => {
    const log = RetainedLog.restore(10, [message(9), message(10)]);
    expect(log).toMatchObject({ first_seq: 9, last_seq: 10, count: 2 });
    expect(() => RetainedLog.restore(10, [message(8), message(10)])).toThrow(/dense/);
  });
});
