import type { BugSwitches } from './bugs.js';
import { assert } from './errors.js';
import type { RaftLog } from './raft-log.js';
import type { Message, PersistAck } from './types.js';

export interface OutboxOptions {
  /** The log prefix already on disk at start-up, and the term of the hard state there. */
  readonly stable: number;
  readonly durableTerm: number;
  /** Held messages beyond this many are dropped (as a network would). */
  readonly maxHeld: number;
  readonly bugs: BugSwitches;
  /** Whether the next `ready()` issues a write (a message held now waits for it too). */
  readonly writePending: () => boolean;
}

/**
 * A replica's outgoing messages, in the order durability allows, and the
 * bookkeeping of its writes. A message that promises something about durable
 * state (a granted vote, an append acknowledgement, anything at a term not yet
 * on disk) is held until every write issued before it, or the one about to be
 * issued, is acknowledged; everything else goes out with the next `ready()`.
 */
export class Outbox {
  /** The log prefix up to here is on disk (and matches the log in memory). */
  stable: number;
  /** The hard state on disk is at this term. */
  durableTerm: number;
  private msgs: Message[] = [];
  private held: { seq: number; msg: Message }[] = [];
  private nextSeq = 1;
  private lastEmittedSeq = 0;
  private lastAckedSeq = 0;
  /** Writes in flight that cut the log at `from`: acknowledgements of older writes cannot vouch past it. */
  private barriers: { seq: number; from: number }[] = [];

  constructor(private readonly o: OutboxOptions) {
    this.stable = o.stable;
    this.durableTerm = o.durableTerm;
  }

  send(m: Message): void {
    if (!this.needsDurability(m)) {
      this.msgs.push(m);
      return;
    }
    let seq: number;
    if (this.o.writePending()) seq = this.nextSeq;
    else if (this.lastEmittedSeq > this.lastAckedSeq) seq = this.lastEmittedSeq;
    else {
      this.msgs.push(m);
      return;
    }
    // Dropping a held message is as safe as losing it on the network.
    if (this.held.length >= this.o.maxHeld) return;
    this.held.push({ seq, msg: m });
  }

  hasMessages(): boolean {
    return this.msgs.length > 0;
  }

  /** The messages free to send now. */
  take(): Message[] {
    const out = this.msgs;
    this.msgs = [];
    return out;
  }

  /**
   * The write the next `ready()` issues replaces the log from `from` on: the
   * durable prefix ends before it, and acknowledgements of writes issued
   * earlier cannot vouch for anything past it.
   */
  cut(from: number): void {
    this.stable = Math.min(this.stable, from - 1);
    const last = this.barriers[this.barriers.length - 1];
    if (last && last.seq === this.nextSeq) last.from = Math.min(last.from, from);
    else this.barriers.push({ seq: this.nextSeq, from });
  }

  /** A `ready()` issues a write: its sequence number, acknowledged later through `acknowledge`. */
  issueWrite(): number {
    const seq = this.nextSeq++;
    this.lastEmittedSeq = seq;
    return seq;
  }

  /** A `ready()` issues no write: what waited for "the next write" needs only the writes already issued. */
  noWrite(): void {
    if (this.held.length === 0) return;
    for (const h of this.held) if (h.seq > this.lastEmittedSeq) h.seq = this.lastEmittedSeq;
    this.release(this.lastAckedSeq);
  }

  /**
   * The write carrying `ack` is durable (acknowledgements arrive in the order
   * the writes were issued): the log is durable up to (log_index, log_term),
   * unless a later write already in flight cuts below it, and what waited for
   * this write is released.
   */
  acknowledge(ack: PersistAck, log: RaftLog): void {
    assert(
      ack.seq > this.lastAckedSeq && ack.seq <= this.lastEmittedSeq,
      `acknowledgement ${ack.seq} out of order`,
    );
    this.lastAckedSeq = ack.seq;
    assert(ack.term >= this.durableTerm, 'durable term never decreases');
    this.durableTerm = ack.term;

    while (this.barriers.length > 0 && this.barriers[0]!.seq <= ack.seq) this.barriers.shift();
    let limit = Math.min(ack.log_index, log.lastIndex());
    if (this.o.bugs.ack_matched_by_index) {
      this.stable = Math.max(this.stable, limit);
    } else {
      for (const b of this.barriers) limit = Math.min(limit, b.from - 1);
      if (limit > this.stable) {
        if (limit < ack.log_index || limit <= log.offset || log.matchTerm(limit, ack.log_term)) {
          this.stable = limit;
        }
      }
    }
    this.release(ack.seq);
  }

  private release(upTo: number): void {
    while (this.held.length > 0 && this.held[0]!.seq <= upTo) this.msgs.push(this.held.shift()!.msg);
  }

  private needsDurability(m: Message): boolean {
    switch (m.type) {
      case 'pre_vote':
      case 'pre_vote_resp':
      case 'read_index':
      case 'read_index_resp':
        return false;
      case 'vote_resp':
        if (this.o.bugs.vote_not_persisted) return false;
        if (!m.reject) return true;
        break;
      case 'app_resp':
        if (!m.reject && !this.o.bugs.ack_before_durable) return true;
        break;
      default:
        break;
    }
    return m.term > this.durableTerm;
  }
}
