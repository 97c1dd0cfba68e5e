import { quorumSize } from './conf.js';
import type { ReadState, ReplicaId } from './types.js';

/** A read the leader is confirming: `from` is this node or the follower that forwarded it. */
interface PendingConfirm {
  readonly ctx: string;
  readonly from: ReplicaId;
  readonly index: number;
  readonly round: number;
}

/**
 * ReadIndex bookkeeping. On the leader, reads wait for a heartbeat round that a
 * quorum answers, which proves no newer leader had been elected when the read
 * arrived; reads registered before the same flush share one round. Confirmed
 * reads (and reads answered by a leader to this follower) then wait until the
 * state machine has applied their index.
 */
export class ReadIndexTracker {
  private confirming: PendingConfirm[] = [];
  private waitingApply: ReadState[] = [];
  /** Reads received before the leader committed an entry of its term. */
  private deferred: { ctx: string; from: ReplicaId }[] = [];
  private nextRound = 1;
  private readonly acked = new Map<ReplicaId, number>();

  constructor(private readonly capacity: number) {}

  size(): number {
    return this.confirming.length + this.waitingApply.length + this.deferred.length;
  }

  full(): boolean {
    return this.size() >= this.capacity;
  }

  /** Drops everything that depends on leadership (on any role or term change). */
  resetLeader(): void {
    this.confirming = [];
    this.deferred = [];
    this.acked.clear();
    this.nextRound = 1;
  }

  defer(ctx: string, from: ReplicaId): void {
    this.deferred.push({ ctx, from });
  }

  takeDeferred(): { ctx: string; from: ReplicaId }[] {
    const out = this.deferred;
    this.deferred = [];
    return out;
  }

  addConfirm(ctx: string, from: ReplicaId, index: number): void {
    this.confirming.push({ ctx, from, index, round: this.nextRound });
  }

  hasUnsentRound(): boolean {
    const last = this.confirming[this.confirming.length - 1];
    return last !== undefined && last.round === this.nextRound;
  }

  /** The round to broadcast in a heartbeat now, or 0 when no read waits for one. */
  roundToSend(): number {
    if (!this.hasUnsentRound()) return 0;
    return this.nextRound++;
  }

  /**
   * Records that `voter` answered heartbeat round `round`, and returns the reads
   * now confirmed by a quorum of `voters` (this node counts as having answered all).
   */
  ack(voter: ReplicaId, round: number, self: ReplicaId, voters: readonly ReplicaId[]): PendingConfirm[] {
    if (round <= (this.acked.get(voter) ?? 0)) return [];
    this.acked.set(voter, round);
    return this.confirmed(self, voters);
  }

  /** Reads confirmed by a quorum (also used after a configuration change shrinks the quorum). */
  confirmed(self: ReplicaId, voters: readonly ReplicaId[]): PendingConfirm[] {
    if (this.confirming.length === 0) return [];
    const rounds: number[] = [];
    for (const v of voters) rounds.push(v === self ? Number.MAX_SAFE_INTEGER : (this.acked.get(v) ?? 0));
    rounds.sort((a, b) => b - a);
    const q = quorumSize(voters.length);
    const upTo = voters.length === 0 ? 0 : rounds[q - 1]!;
    let n = 0;
    while (n < this.confirming.length && this.confirming[n]!.round <= upTo) n++;
    if (n === 0) return [];
    return this.confirming.splice(0, n);
  }

  waitApply(state: ReadState): void {
    this.waitingApply.push(state);
  }

  /** Reads whose index the state machine has reached. */
  takeApplied(applied: number): ReadState[] {
    if (this.waitingApply.length === 0) return [];
    const ready: ReadState[] = [];
    const rest: ReadState[] = [];
    for (const r of this.waitingApply) (r.index <= applied ? ready : rest).push(r);
    this.waitingApply = rest;
    return ready;
  }

  hasAppliedBy(applied: number): boolean {
    for (const r of this.waitingApply) if (r.index <= applied) return true;
    return false;
  }
}
