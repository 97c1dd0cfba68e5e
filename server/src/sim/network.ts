import type { Prng } from '../raft/prng.js';
import type { NodeId } from '../raft/types.js';

export interface NetworkFaults {
  /** Probability a message is lost. */
  drop: number;
  /** Probability a message is delivered twice. */
  duplicate: number;
  /** Probability a message takes a long detour (so it overtakes or is overtaken). */
  reorder: number;
  delayMinMs: number;
  delayMaxMs: number;
  reorderMaxMs: number;
}

export const CALM_NETWORK: NetworkFaults = Object.freeze({
  drop: 0,
  duplicate: 0,
  reorder: 0,
  delayMinMs: 1,
  delayMaxMs: 3,
  reorderMaxMs: 0,
});

/**
 * The simulated network between nodes: per-link blocking (symmetric or one-way
 * partitions) and per-message loss, duplication, delay and reordering, all
 * decided by the simulation's PRNG.
 */
export class SimNetwork {
  faults: NetworkFaults;
  private readonly blocked = new Set<string>();
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly prng: Prng,
    faults: NetworkFaults,
  ) {
    this.faults = faults;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  blockOneWay(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** No messages cross between different sides. */
  partition(sides: readonly (readonly NodeId[])[]): void {
    for (let i = 0; i < sides.length; i++) {
      for (let j = 0; j < sides.length; j++) {
        if (i === j) continue;
        for (const a of sides[i]!) for (const b of sides[j]!) this.blockOneWay(a, b);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Restores every link to and from one node. */
  reconnect(id: NodeId): void {
    for (const link of [...this.blocked]) {
      const [a, b] = link.split('>');
      if (a === id || b === id) this.blocked.delete(link);
    }
  }

  blockedLinks(): number {
    return this.blocked.size;
  }

  /** Delivery delays for one message: none when lost, two when duplicated. */
  route(from: NodeId, to: NodeId): number[] {
    this.sent++;
    const f = this.faults;
    if (this.isBlocked(from, to) || this.prng.chance(f.drop)) {
      this.dropped++;
      return [];
    }
    const out = [this.delay()];
    if (this.prng.chance(f.duplicate)) {
      this.duplicated++;
      out.push(this.delay());
    }
    return out;
  }

  private delay(): number {
    const f = this.faults;
    let d = f.delayMinMs + this.prng.float() * (f.delayMaxMs - f.delayMinMs);
    if (f.reorderMaxMs > 0 && this.prng.chance(f.reorder)) d += this.prng.float() * f.reorderMaxMs;
    return d;
  }
}
