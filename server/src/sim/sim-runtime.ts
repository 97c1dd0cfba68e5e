import type { Prng } from '../raft/prng.js';
import type { Runtime } from '../util/runtime.js';

/** What a process's clock needs from the simulation. */
export interface Scheduler {
  now(): number;
  /** Runs `fn` at virtual time `at` in the process of `node` running as `epoch`, unless it died. */
  atProcess(at: number, node: number, epoch: number, fn: () => void): void;
}

/**
 * Virtual time for one node process. Its clock runs at `rate` (clock drift:
 * timers of a fast clock fire early in real terms), every timer is late by a
 * random `jitter` fraction (uneven ticks), and `soon` takes a little virtual
 * CPU time, so a busy process cannot stop time.
 */
export class ProcessRuntime implements Runtime {
  constructor(
    private readonly sim: Scheduler,
    private readonly node: number,
    private readonly epoch: number,
    private readonly prng: Prng,
    private readonly rate: number,
    private readonly jitter: number,
  ) {}

  now(): number {
    return this.sim.now() * this.rate;
  }

  setTimer(ms: number, fn: () => void): () => void {
    let cancelled = false;
    const late = 1 + this.prng.float() * this.jitter;
    this.sim.atProcess(this.sim.now() + (ms * late) / this.rate, this.node, this.epoch, () => {
      if (!cancelled) fn();
    });
    return () => {
      cancelled = true;
    };
  }

  soon(fn: () => void): void {
    this.sim.atProcess(this.sim.now() + 0.005 + this.prng.float() * 0.02, this.node, this.epoch, fn);
  }

  random(): number {
    return this.prng.float();
  }
}
