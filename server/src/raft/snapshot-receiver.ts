import type { Checksum, Snapshot, SnapshotChunkMessage, SnapshotMeta } from './types.js';

/** What a follower does with one chunk of a leader's snapshot. */
export type ChunkOutcome =
  /** Acknowledge: the follower now holds `offset` bytes of this transfer. */
  | { readonly kind: 'progress'; readonly offset: number }
  /** Refuse: the leader resumes from `offset` (0 restarts the transfer). */
  | { readonly kind: 'reject'; readonly offset: number }
  /** Every byte arrived and matches the snapshot's checksum. */
  | { readonly kind: 'complete'; readonly snapshot: Snapshot }
  /** Bigger than this follower accepts: dropped, as if lost. */
  | { readonly kind: 'ignore' };

interface Transfer {
  readonly from: string;
  /** The leader's term: a transfer belongs to one leader of one term. */
  readonly term: number;
  readonly meta: SnapshotMeta;
  readonly buffer: Uint8Array;
  received: number;
  crc: number;
}

/**
 * Assembles a snapshot from chunks sent in order. A transfer is identified by
 * the leader, its term and the snapshot (index, term, checksum, size), so
 * chunks of two leaders, or of two snapshots of one leader, are never spliced;
 * the assembled bytes must match the snapshot's checksum end to end.
 */
export class SnapshotReceiver {
  private transfer: Transfer | null = null;

  constructor(
    private readonly maxBytes: number,
    private readonly checksum: Checksum,
  ) {}

  reset(): void {
    this.transfer = null;
  }

  receive(m: SnapshotChunkMessage): ChunkOutcome {
    if (m.total_bytes > this.maxBytes) return { kind: 'ignore' };
    let t = this.transfer;
    if (t === null || !sameTransfer(t, m)) {
      if (m.offset !== 0) return { kind: 'reject', offset: 0 };
      t = {
        from: m.from,
        term: m.term,
        meta: m.meta,
        buffer: new Uint8Array(m.total_bytes),
        received: 0,
        crc: 0,
      };
      this.transfer = t;
    }
    if (m.offset < t.received) return { kind: 'progress', offset: t.received };
    if (m.offset > t.received || m.offset + m.data.length > t.buffer.length) {
      return { kind: 'reject', offset: t.received };
    }
    t.buffer.set(m.data, m.offset);
    t.received += m.data.length;
    t.crc = this.checksum(m.data, t.crc);
    if (!m.done) return { kind: 'progress', offset: t.received };
    this.transfer = null;
    if (t.received !== t.buffer.length || t.crc !== t.meta.checksum) return { kind: 'reject', offset: 0 };
    return { kind: 'complete', snapshot: { meta: t.meta, data: t.buffer } };
  }
}

function sameTransfer(t: Transfer, m: SnapshotChunkMessage): boolean {
  return (
    t.from === m.from &&
    t.term === m.term &&
    t.meta.index === m.meta.index &&
    t.meta.term === m.meta.term &&
    t.meta.checksum === m.meta.checksum &&
    t.buffer.length === m.total_bytes
  );
}
