import type { Segment } from '@fastpaca/contract';
import { assert } from './assert.js';
import type { EntryList } from './window-buffer.js';
import type { WindowEntry } from './window-entry.js';

/** An inclusive range of log seqs. */
export interface SeqRange {
  from_seq: number;
  to_seq: number;
}

/**
 * Derives the window's segments: each run of summary entries becomes one
 * `summary` segment covering the log range the compaction stood for, and each
 * run of live entries a `live` segment from its first to its last seq.
 */
export function segmentsOf(entries: EntryList, summaryRange: SeqRange | null): Segment[] {
  const segments: Segment[] = [];
  let current: Segment | null = null;
  for (let i = 0; i < entries.length; i++) {
    const { message } = entries.at(i)!;
    if (message.seq === null) {
      if (current?.type === 'summary') continue;
      assert(summaryRange !== null, 'summary entry without a summary range');
      current = { type: 'summary', from_seq: summaryRange.from_seq, to_seq: summaryRange.to_seq };
      segments.push(current);
    } else if (current?.type === 'live') {
      current.to_seq = message.seq;
    } else {
      current = { type: 'live', from_seq: message.seq, to_seq: message.seq };
      segments.push(current);
    }
  }
  return segments;
}

/**
 * The log range that left the live window when `dropped` was removed: the
 * span of dropped live seqs, widened to the summary range when summary
 * messages were dropped too. Null when nothing was dropped.
 */
export function droppedRange(
  dropped: readonly WindowEntry[],
  summaryRange: SeqRange | null,
): SeqRange | null {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  let summaryDropped = false;
  for (const { message } of dropped) {
    if (message.seq === null) {
      summaryDropped = true;
    } else {
      from = Math.min(from, message.seq);
      to = Math.max(to, message.seq);
    }
  }
  if (summaryDropped) {
    assert(summaryRange !== null, 'summary entry without a summary range');
    from = Math.min(from, summaryRange.from_seq);
    to = Math.max(to, summaryRange.to_seq);
  }
  return dropped.length === 0 ? null : { from_seq: from, to_seq: to };
}
