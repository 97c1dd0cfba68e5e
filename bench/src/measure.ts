import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';

export interface MeasureOptions {
  warmup_ops: number;
  batch_ops: number;
  batches: number;
}

const defaults: MeasureOptions = { warmup_ops: 2_000, batch_ops: 1_000, batches: 31 };

/**
 * Times two operations in alternating batches and reports each one's median
 * batch cost per operation (warm-up excluded). Alternating makes background
 * load and collector work fall on both sides alike, so their ratio shows the
 * difference between the operations rather than between moments.
 */
export function measurePair(
  a: (i: number) => unknown,
  b: (i: number) => unknown,
  options: Partial<MeasureOptions> = {},
): [number, number] {
  const { warmup_ops, batch_ops, batches } = { ...defaults, ...options };
  let sink = 0;
  for (let i = 0; i < warmup_ops; i++) {
    sink ^= a(i) === undefined ? 0 : 1;
    sink ^= b(i) === undefined ? 0 : 1;
  }
  const timesA: number[] = [];
  const timesB: number[] = [];
  let i = warmup_ops;
  for (let batch = 0; batch < batches; batch++) {
    for (const [op, times] of [
      [a, timesA],
      [b, timesB],
    ] as const) {
      const start = process.hrtime.bigint();
      for (let k = 0; k < batch_ops; k++) sink ^= op(i + k) === undefined ? 0 : 1;
      times.push(Number(process.hrtime.bigint() - start) / batch_ops);
    }
    i += batch_ops;
  }
  if (sink === 2) console.log('');
  return [median(timesA), median(timesB)];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Wall time of `fn` and the part of it spent in garbage collection. */
export async function timed<T>(fn: () => T): Promise<{ value: T; ms: number; gc_ms: number }> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  const start = performance.now();
  const value = fn();
  const ms = performance.now() - start;
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return { value, ms, gc_ms: gcMs };
}

export function machineLine(): string {
  const cpus = os.cpus();
  return (
    `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.arch()}, ` +
    `load average ${os.loadavg()[0]!.toFixed(2)} at start.`
  );
}
