import { assert } from './errors.js';
import type { ProgressState } from './types.js';

/** A ring of the last index and byte size of each unacknowledged append. */
export class Inflights {
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  count = 0;
  bytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {
    this.indexes = new Array<number>(maxCount).fill(0);
    this.sizes = new Array<number>(maxCount).fill(0);
  }

  full(): boolean {
    return this.count >= this.maxCount || this.bytes >= this.maxBytes;
  }

  add(lastIndex: number, bytes: number): void {
    assert(this.count < this.maxCount, 'inflight window overflow');
    const slot = (this.start + this.count) % this.maxCount;
    this.indexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every append whose last index is ≤ `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= index) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxCount;
      this.count--;
    }
    if (this.count === 0) {
      this.start = 0;
      this.bytes = 0;
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe: an append is out and unanswered, so wait before sending another. */
  probeSent = false;
  /** Heard from this peer since the last check-quorum round. */
  recentActive: boolean;
  /** Heartbeat answers seen while `match` stood still with appends outstanding. */
  stalledHeartbeats = 0;
  /** In snapshot: the snapshot being sent and how far the follower has it. */
  snapshotIndex = 0;
  snapshotTerm = 0;
  snapshotAcked = 0;
  snapshotSent = 0;
  /** The final chunk went out; resend only if the follower asks or the transfer stalls. */
  snapshotDoneSent = false;
  /**
   * The offset the transfer was last rewound to on a rejection. Every chunk sent
   * after a lost one is rejected with the same offset; rewinding once per gap
   * keeps one loss from multiplying into a storm of resends.
   */
  snapshotRewind = -1;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number, recentActive: boolean) {
    this.next = next;
    this.recentActive = recentActive;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  paused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.probeSent = false;
    this.next = this.match + 1;
    this.inflights.reset();
    this.stalledHeartbeats = 0;
    this.snapshotIndex = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.probeSent = false;
    this.next = this.match + 1;
    this.inflights.reset();
    this.stalledHeartbeats = 0;
    this.snapshotIndex = 0;
  }

  becomeSnapshot(index: number, term: number): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.inflights.reset();
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.snapshotAcked = 0;
    this.snapshotSent = 0;
    this.snapshotDoneSent = false;
    this.snapshotRewind = -1;
    this.stalledHeartbeats = 0;
  }

  /** Returns true when the acknowledgement moved `match` forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.stalledHeartbeats = 0;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /**
   * Handles a rejection of the append after `rejected`, moving `next` back to
   * `hint` (already computed from the follower's conflict hint). Returns false
   * when the rejection is stale (answers an append sent before a newer one).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    // A rejection at or below `match` contradicts a durable acknowledgement: stale, or a follower that
    // lost its disk. Resending cannot help, and answering each one would ping-pong without end.
    if (rejected <= this.match) return false;
    if (this.state === 'replicate') {
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint), this.match + 1);
    this.probeSent = false;
    return true;
  }
}
