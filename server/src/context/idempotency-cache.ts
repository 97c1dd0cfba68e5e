import { assert } from './assert.js';

/** The original result of an append, returned again when its key is replayed. */
export interface IdempotencyRecord {
  seq: number;
  version: number;
  token_estimate: number;
}

/**
 * Remembers the last `capacity` idempotency keys of a context and the result
 * each produced. Eviction is FIFO by first use, which every replica computes
 * identically because it depends only on the order of applied commands.
 */
export class IdempotencyCache {
  private readonly records = new Map<string, IdempotencyRecord>();

  constructor(private readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'idempotency capacity must be a positive integer');
  }

  get(key: string): IdempotencyRecord | undefined {
    return this.records.get(key);
  }

  remember(key: string, record: IdempotencyRecord): void {
    assert(!this.records.has(key), 'an idempotency key is remembered once');
    if (this.records.size >= this.capacity) {
      const oldest = this.records.keys().next();
      if (oldest.done !== true) this.records.delete(oldest.value);
    }
    this.records.set(key, record);
  }

  get size(): number {
    return this.records.size;
  }

  /** Oldest first, the order eviction follows. */
  entries(): IterableIterator<[string, IdempotencyRecord]> {
    return this.records.entries();
  }
}
