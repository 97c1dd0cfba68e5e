import { describe, expect, it } from 'vitest';
import { WindowBuffer } from '../../src/context/window-buffer.js';
import { type WindowEntry, windowEntry } from '../../src/context/window-entry.js';

function entry(seq: number, role = 'user', toolCallId?: string): WindowEntry {
  const part = toolCallId === undefined ? { type: 'text', text: `${seq}` } : { type: 'tool-x', toolCallId };
  return windowEntry(
    { seq, role, parts: [part], metadata: {}, token_count: 1, inserted_at: '2025-01-01T00:00:00.000Z' },
    null,
  );
}

const seqs = (w: WindowBuffer) => w.toArray().map((e) => e.message.seq);

describe('WindowBuffer – a deque that keeps the pinned prefix in place', () => {
  it('removes a range after the pinned prefix and keeps order', () => {
    const w = WindowBuffer.of([entry(1, 'system'), entry(2, 'system'), entry(3), entry(4), entry(5)]);
    const removed = w.removeRange(2, 4);
    expect(removed.map((e) => e.message.seq)).toEqual([3, 4]);
    expect(seqs(w)).toEqual([1, 2, 5]);
    expect(w.at(0)!.message.seq).toBe(1);
    expect(w.at(3)).toBeUndefined();
    expect(w.at(-1)).toBeUndefined();
  });

  it('counts entries with tool ids through pushes and removals', () => {
    const w = WindowBuffer.of([entry(1, 'assistant', 'a'), entry(2)]);
    w.push(entry(3, 'tool', 'a'));
    expect(w.tool_entries).toBe(2);
    w.removeRange(0, 1);
    expect(w.tool_entries).toBe(1);
  });

  it('stays correct across many drops and backing-array compactions', () => {
    const w = WindowBuffer.of([entry(0, 'system')]);
    for (let seq = 1; seq <= 2_000; seq++) {
      w.push(entry(seq));
      if (w.length > 11) w.removeRange(1, 2);
    }
    expect(seqs(w)).toEqual([0, ...Array.from({ length: 10 }, (_, i) => 1_991 + i)]);
  });

  it('rejects an out-of-bounds range', () => {
    const w = WindowBuffer.of([entry(1)]);
    expect(() => w.removeRange(0, 2)).toThrow(/out of bounds/);
  });
});
