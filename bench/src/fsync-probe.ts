import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface FsyncLatency {
  count: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/**
 * What one durable write costs on this disk: `count` × (write 4 KiB at the
 * next offset + fdatasync) in a new directory under `parent`, which should be
 * where the servers keep their data. Every durable number in the report
 * stands on this one.
 */
export function measureFsync(parent: string, count = 200, bytes = 4096): FsyncLatency {
  const dir = mkdtempSync(join(parent, 'fastpaca-bench-fsync-'));
  const block = Buffer.alloc(bytes, 0x61);
  const times: number[] = [];
  const fd = openSync(join(dir, 'probe'), 'w');
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      writeSync(fd, block, 0, bytes, i * bytes);
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!;
  return { count, p50_ms: at(50), p99_ms: at(99), max_ms: times[times.length - 1]! };
}
