import { assert } from './assert.js';

/** The original result of an append, returned again when its key is replayed. */
export interface IdempotencyRecord {
  first_seq: number;
  seq: number;
  version: number;
  token_estimate: number;
}

/** A remembered key: the result it produced and the command time of its append. */
export interface RememberedKey extends IdempotencyRecord {
  at: number;
}

export interface IdempotencyRetention {
  /** The newest keys kept whatever their age. */
  min: number;
  /** Never more than this many keys. */
  max: number;
  /** Older keys are kept while younger than this, in command time. */
  retention_ms: number;
}

/**
 * Remembers idempotency keys of a context and the result each produced: the
 * newest `min` always, older ones for `retention_ms`, never more than `max`.
 * A count alone is not enough: a client retrying through a failover on a busy
 * context can come back after thousands of other appends.
 *
 * Eviction is FIFO by first use and ages are measured against the `at` of the
 * command being applied, never a local clock, so every replica forgets the
 * same keys at the same log index. A proposer's clock that jumps ahead can
 * shorten retention to `min` keys, never below.
 */
export class IdempotencyCache {
  private readonly records = new Map<string, RememberedKey>();

  constructor(private readonly retention: IdempotencyRetention) {
    const { min, max, retention_ms } = retention;
    assert(Number.isSafeInteger(min) && min > 0, 'idempotency min must be a positive integer');
    assert(Number.isSafeInteger(max) && max >= min, 'idempotency max must be an integer >= min');
    assert(Number.isSafeInteger(retention_ms) && retention_ms >= 0, 'idempotency retention must be >= 0');
  }

  get(key: string): IdempotencyRecord | undefined {
    const remembered = this.records.get(key);
    if (remembered === undefined) return undefined;
    const { first_seq, seq, version, token_estimate } = remembered;
    return { first_seq, seq, version, token_estimate };
  }

  /** Adds `key`, appended at command time `at`, then forgets what retention allows. */
  remember(key: string, record: IdempotencyRecord, at: number): void {
    const { first_seq, seq, version, token_estimate } = record;
    this.restore(key, { first_seq, seq, version, token_estimate, at });
    this.evict(at);
  }

  /** Adds a key from a snapshot, oldest first, without evicting: the snapshot already did. */
  restore(key: string, remembered: RememberedKey): void {
    assert(!this.records.has(key), 'an idempotency key is remembered once');
    this.records.set(key, remembered);
  }

  private evict(now: number): void {
    const { min, max, retention_ms } = this.retention;
    const horizon = now - retention_ms;
    while (this.records.size > min) {
      const oldest = this.records.entries().next();
      if (oldest.done === true) return;
      const [key, remembered] = oldest.value;
      if (this.records.size <= max && remembered.at >= horizon) return;
      this.records.delete(key);
    }
  }

  get size(): number {
    return this.records.size;
  }

  /** Oldest first, the order eviction follows. */
  entries(): IterableIterator<[string, RememberedKey]> {
    return this.records.entries();
  }
}
