import { assert } from '../util/assert.js';

type Waiter<T> = {
  resolve: (result: IteratorResult<T, undefined>) => void;
  reject: (error: unknown) => void;
};

/**
 * The buffer between the websocket and an async iterator. It is bounded by
 * its producer: the subscription stops reading (closes the connection) once
 * `full`, and resumes from its cursor when the consumer has drained it to half
 * (`onDrained`). Items pushed after the end are a programmer error.
 */
export class EventQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: Waiter<T> | undefined;
  private state: 'open' | 'ending' | 'failed' | 'done' = 'open';
  private failure: unknown;

  constructor(
    readonly capacity: number,
    private readonly onDrained: () => void,
  ) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'the event buffer size must be a positive integer');
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  get drained(): boolean {
    return this.size <= Math.floor(this.capacity / 2);
  }

  push(items: readonly T[]): void {
    assert(this.state === 'open', 'event pushed after the subscription ended');
    for (const item of items) {
      if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter.resolve({ value: item, done: false });
      } else {
        this.items.push(item);
      }
    }
  }

  /** Ends after the buffered items are consumed. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.settleIfEmpty();
  }

  /** Throws `error` after the buffered items are consumed. */
  fail(error: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = error;
    this.settleIfEmpty();
  }

  /** Drops everything and ends now. */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.state = 'done';
    this.settleIfEmpty();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.size > 0) {
      const item = this.items[this.head]!;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (this.state === 'open' && this.drained) this.onDrained();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.state === 'failed') {
      this.state = 'done';
      return Promise.reject(this.failure);
    }
    if (this.state !== 'open') {
      this.state = 'done';
      return Promise.resolve({ value: undefined, done: true });
    }
    assert(this.waiter === undefined, 'a subscription can be iterated by one consumer at a time');
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private settleIfEmpty(): void {
    if (!this.waiter || this.size > 0) return;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (this.state === 'failed') {
      this.state = 'done';
      waiter.reject(this.failure);
    } else {
      this.state = 'done';
      waiter.resolve({ value: undefined, done: true });
    }
  }
}
