import type { SimNetwork } from './sim-network.js';
import type { SimNode } from './sim-node.js';
import type { SimWorld } from './world.js';

/** What fault injection needs of the simulation besides the world clients see. */
export interface FaultTarget extends SimWorld {
  readonly network: SimNetwork;
  /** The one node whose disk flips bits and gets wiped (a group survives one lost replica at a time). */
  readonly flaky: number;
  crashAndRestart(n: SimNode, downMs?: number): void;
  rebuild(n: SimNode): void;
  lossAllowed(): boolean;
  shuffled<T>(items: readonly T[]): T[];
}

/**
 * The random faults of a run: crashes and power loss, partitions and
 * connection resets, process pauses, full disks, and (on one node, one loss
 * at a time) bit flips and wiped disks. Faults aimed at particular moments
 * (a new leader, a promise just made) are injected where those moments are
 * observed, in the simulator.
 */
export class FaultInjector {
  constructor(private readonly w: FaultTarget) {}

  /** One round of random faults (every `faultRoundMs` while faults are on). */
  round(): void {
    const s = this.w.scenario;
    const p = this.w.prng;
    const up = () => this.w.nodes.filter((n) => n.proc?.up);
    if (p.chance(s.crashRate)) {
      const alive = up();
      if (alive.length > 0) this.w.crashAndRestart(p.pick(alive));
    }
    if (p.chance(s.powerLossRate)) {
      const alive = up();
      const count = p.chance(0.5) ? alive.length : Math.floor(this.w.nodes.length / 2) + 1;
      const victims = this.w.shuffled(alive).slice(0, count);
      this.w.trace(`power loss: ${victims.map((v) => v.id).join(',')}`);
      for (const v of victims) this.w.crashAndRestart(v);
    }
    if (p.chance(s.partitionRate)) this.partition();
    else if (p.chance(0.1)) {
      this.w.network.heal();
      this.w.trace('network healed');
    }
    if (p.chance(s.connectionResetRate)) this.w.network.resetOne();
    if (p.chance(s.pauseRate)) {
      const alive = up();
      if (alive.length > 0) {
        const n = p.pick(alive);
        n.pausedUntil = this.w.now() + p.float() * s.pauseMaxMs;
        this.w.stats.pauses++;
        this.w.trace(`${n.id} paused until ${n.pausedUntil.toFixed(1)}ms`);
      }
    }
    if (p.chance(s.diskFullRate)) {
      const n = p.pick(this.w.nodes);
      n.disk.capacity = n.disk.used() + p.int(512);
      this.w.trace(`${n.name}: disk full`);
      this.w.at(this.w.now() + 50 + p.float() * 300, () => {
        n.disk.capacity = Number.POSITIVE_INFINITY;
      });
    }
    this.storageLoss();
  }

  /** Bit flips and wiped disks, on one node only and one loss at a time (a group survives one lost replica). */
  private storageLoss(): void {
    const s = this.w.scenario;
    const p = this.w.prng;
    const n = this.w.nodes[this.w.flaky]!;
    const allowed = this.w.lossAllowed();
    n.disk.faults = { ...n.disk.faults, writtenBitFlip: allowed ? s.bitFlipWritten : 0 };
    if (!allowed) return;
    if (p.chance(s.bitFlipAtRest)) {
      // Data at rest decays; the next recovery reads it.
      const d = n.disk.flipAtRest();
      if (d) this.w.trace(`${n.name}: bit flipped at rest in ${d.path} at ${d.offset}`);
      this.w.crashAndRestart(n);
    } else if (p.chance(s.wipeRate)) {
      this.w.trace(`${n.id}: disk lost`);
      this.w.rebuild(n);
    }
  }

  private partition(): void {
    const p = this.w.prng;
    this.w.stats.partitions++;
    const ids = this.w.shuffled(this.w.nodes.map((n) => n.index));
    const r = p.float();
    if (p.chance(0.5)) this.w.network.heal();
    if (r < 0.3) {
      this.w.network.partition([[ids[0]!], ids.slice(1)]);
      this.w.trace(`partition: ${this.w.nodes[ids[0]!]!.id} isolated`);
    } else if (r < 0.6) {
      const cut = 1 + p.int(ids.length - 1);
      this.w.network.partition([ids.slice(0, cut), ids.slice(cut)]);
      this.w.trace(`partition: ${ids.slice(0, cut).join(',')} | ${ids.slice(cut).join(',')}`);
    } else {
      const links = 1 + p.int(3);
      for (let i = 0; i < links; i++) {
        const a = p.pick(ids);
        const b = p.pick(ids);
        if (a !== b) {
          this.w.network.blockOneWay(a, b);
          this.w.trace(`partition: one-way ${this.w.nodes[a]!.id} -> ${this.w.nodes[b]!.id}`);
        }
      }
    }
  }

  /** Cuts a node off for a short while (targeted at leaders at critical moments). */
  isolate(n: SimNode): void {
    if (!this.w.faultsOn()) return;
    const others = this.w.nodes.filter((x) => x !== n).map((x) => x.index);
    this.w.network.partition([[n.index], others]);
    this.w.stats.partitions++;
    this.w.trace(`partition: leader ${n.id} isolated`);
    this.w.at(this.w.now() + 100 + this.w.prng.float() * 300, () => {
      if (this.w.faultsOn()) this.w.network.reconnect(n.index);
    });
  }
}
