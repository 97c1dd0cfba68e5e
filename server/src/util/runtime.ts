/**
 * Time and scheduling as the replication layer and the node link see them. Production passes
 * `systemRuntime`; the simulator passes virtual time, so the driver, storage
 * and node link it runs are the ones that ship.
 */
export interface Runtime {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
  /** Runs `fn` soon, after I/O callbacks already due (`setImmediate`). */
  soon(fn: () => void): void;
  /** A float in [0, 1) for jitter. */
  random(): number;
}

export const systemRuntime: Runtime = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
  soon: (fn) => {
    setImmediate(fn);
  },
  random: Math.random,
};

/** Calls `fn` every `ms` until cancelled (re-armed after each call, so a slow call delays the next). */
export function every(runtime: Runtime, ms: number, fn: () => void): () => void {
  let cancel = () => {};
  let stopped = false;
  const arm = () => {
    cancel = runtime.setTimer(ms, () => {
      if (stopped) return;
      fn();
      if (!stopped) arm();
    });
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}
