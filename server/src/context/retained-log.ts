import type { Message } from '@fastpaca/contract';
import { assert } from './assert.js';

/** Below this many dropped slots the backing array is not worth compacting. */
const compact_slots_min = 1_024;

/**
 * The retained tail of a context's message log: a dense run of seqs
 * `first_seq..last_seq` kept in a deque so that a seq maps to an index by
 * arithmetic. Appends are amortized O(1), reads O(output) and trimming
 * amortized O(dropped), whatever the length of the history.
 */
export class RetainedLog {
  /** Slots before `head` were trimmed; they hold `undefined` so the messages can be collected. */
  private items: (Message | undefined)[];
  private head = 0;
  private last = 0;

  private constructor(items: Message[], lastSeq: number) {
    this.items = items;
    this.last = lastSeq;
  }

  static empty(): RetainedLog {
    return new RetainedLog([], 0);
  }

  /** Rebuilds a log whose newest message has `lastSeq`; `messages` are the retained ones, oldest first. */
  static restore(lastSeq: number, messages: Message[]): RetainedLog {
    assert(
      Number.isSafeInteger(lastSeq) && lastSeq >= messages.length,
      'retained log longer than its history',
    );
    const first = lastSeq - messages.length + 1;
    for (let i = 0; i < messages.length; i++) {
      assert(messages[i]!.seq === first + i, 'retained log seqs are not dense');
    }
    return new RetainedLog(messages, lastSeq);
  }

  get last_seq(): number {
    return this.last;
  }

  /** Number of retained messages. */
  get count(): number {
    return this.items.length - this.head;
  }

  /** Seq of the oldest retained message; `last_seq + 1` when nothing is retained. */
  get first_seq(): number {
    return this.last - this.count + 1;
  }

  append(message: Message): void {
    assert(message.seq === this.last + 1, 'appended seq must follow last_seq');
    this.items.push(message);
    this.last = message.seq;
  }

  at(seq: number): Message | undefined {
    if (seq < this.first_seq || seq > this.last) return undefined;
    return this.items[this.head + (seq - this.first_seq)];
  }

  /** Retained messages with `from_seq <= seq <= to_seq`, oldest first. */
  range(fromSeq: number, toSeq: number): Message[] {
    const from = Math.max(fromSeq, this.first_seq);
    const to = Math.min(toSeq, this.last);
    if (from > to) return [];
    const start = this.head + (from - this.first_seq);
    return this.items.slice(start, start + (to - from + 1)) as Message[];
  }

  /**
   * Drops the oldest messages while more than `keep` remain and the oldest is
   * at or below `upto_seq`. Returns how many were dropped.
   */
  trim(keep: number, uptoSeq: number): number {
    const byCount = this.count - keep;
    const bySeq = Math.min(uptoSeq, this.last) - this.first_seq + 1;
    const drop = Math.max(0, Math.min(byCount, bySeq));
    for (let i = 0; i < drop; i++) this.items[this.head + i] = undefined;
    this.head += drop;
    if (this.head >= compact_slots_min && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return drop;
  }

  /** The retained messages, oldest first (copies the slot array, not the messages). */
  toArray(): Message[] {
    return this.items.slice(this.head) as Message[];
  }
}
