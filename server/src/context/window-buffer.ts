import { assert } from './assert.js';
import type { WindowEntry } from './window-entry.js';

/** Read access to a run of window entries; arrays satisfy it too. */
export interface EntryList {
  readonly length: number;
  at(index: number): WindowEntry | undefined;
}

/** Below this many vacated slots the backing array is not worth compacting. */
const compact_slots_min = 64;

/**
 * The LLM window as a deque: the policy drops from the front (after the
 * pinned prefix) and appends push at the back, each in O(changed entries)
 * instead of shifting the whole window. It also counts the entries that
 * carry tool call ids, so windows without tool calls never scan for them.
 */
export class WindowBuffer implements EntryList {
  private items: (WindowEntry | undefined)[];
  private head = 0;
  private withToolIds = 0;

  private constructor(entries: WindowEntry[]) {
    this.items = entries;
    for (const entry of entries) if (entry.tool_ids.length > 0) this.withToolIds++;
  }

  static of(entries: WindowEntry[]): WindowBuffer {
    return new WindowBuffer(entries);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Number of entries with at least one tool call id. */
  get tool_entries(): number {
    return this.withToolIds;
  }

  at(index: number): WindowEntry | undefined {
    return index >= 0 && index < this.length ? this.items[this.head + index] : undefined;
  }

  push(entry: WindowEntry): void {
    this.items.push(entry);
    if (entry.tool_ids.length > 0) this.withToolIds++;
  }

  /**
   * Removes entries `[from, to)` and returns them. The `from` entries before
   * the range (the pinned prefix) move up instead of everything after it.
   */
  removeRange(from: number, to: number): WindowEntry[] {
    assert(0 <= from && from <= to && to <= this.length, 'window range out of bounds');
    const gap = to - from;
    const removed: WindowEntry[] = [];
    for (let i = from; i < to; i++) {
      const entry = this.items[this.head + i]!;
      if (entry.tool_ids.length > 0) this.withToolIds--;
      removed.push(entry);
    }
    for (let i = from - 1; i >= 0; i--) this.items[this.head + i + gap] = this.items[this.head + i];
    for (let i = 0; i < gap; i++) this.items[this.head + i] = undefined;
    this.head += gap;
    if (this.head >= compact_slots_min && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return removed;
  }

  /** A copy of the entries, oldest first. */
  toArray(): WindowEntry[] {
    return this.items.slice(this.head) as WindowEntry[];
  }
}
