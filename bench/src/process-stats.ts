import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/<pid>/stat` times. */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used, all threads included (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** User + system CPU seconds of one thread; the main thread's id is the process id (Linux). */
export function threadCpuSeconds(pid: number, tid = pid): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Process ids mapped to their parents, for every process visible in /proc. */
function parentsByPid(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process exited between the listing and the read.
    }
  }
  return parents;
}

/**
 * CPU seconds of a process and all its live descendants, e.g. a database
 * server and its per-connection backends. Descendants that already exited
 * are not counted, so take both samples while the same children are alive.
 */
export function processTreeCpuSeconds(rootPid: number): number {
  const parents = parentsByPid();
  const inTree = new Set([rootPid]);
  // Parents may be listed after their children, so repeat until nothing joins (bounded by the tree's depth).
  for (let grew = true, rounds = 0; grew && rounds < 64; rounds++) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!inTree.has(pid) && inTree.has(parent)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of inTree) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // Exited since the listing.
    }
  }
  return total;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export const rssBytes = (pid: number) => statusKb(pid, 'VmRSS');

/** Nanoseconds the process's main thread has spent waiting for a CPU while runnable (Linux schedstat). */
export function runQueueWaitNs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
  return Number(fields[1]);
}

/** Microseconds in which some runnable task of the machine waited for a CPU (PSI), or NaN without PSI. */
export function machineCpuStallUs(): number {
  try {
    const match = /^some .* total=(\d+)$/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
/** The highest resident set size since the process started. */
export const peakRssBytes = (pid: number) => statusKb(pid, 'VmHWM');

/** Samples a process's CPU and RSS over a window. */
export class ProcessSampler {
  private readonly timer: NodeJS.Timeout;
  private readonly cpuStart: number;
  private readonly waitStart: number;
  private readonly stallStart = machineCpuStallUs();
  private readonly wallStart = performance.now();
  private rssMax = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.cpuStart = cpuSeconds(pid);
    this.waitStart = runQueueWaitNs(pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    try {
      this.rssMax = Math.max(this.rssMax, rssBytes(this.pid));
    } catch {
      // The process may have exited; the last sample stands.
    }
  }

  /**
   * Over the window so far: CPU use as a percentage of one core, the share of
   * time the main thread was runnable but waiting for a CPU, the share of time
   * any task of the machine was (PSI "some"), and the largest RSS seen.
   */
  stop(): {
    cpu_percent: number;
    run_queue_wait_percent: number;
    machine_cpu_stall_percent: number;
    rss_max_bytes: number;
    peak_rss_bytes: number;
  } {
    clearInterval(this.timer);
    this.sample();
    const wallSeconds = (performance.now() - this.wallStart) / 1000;
    return {
      cpu_percent: (100 * (cpuSeconds(this.pid) - this.cpuStart)) / wallSeconds,
      run_queue_wait_percent: (100 * (runQueueWaitNs(this.pid) - this.waitStart)) / 1e9 / wallSeconds,
      machine_cpu_stall_percent: (100 * (machineCpuStallUs() - this.stallStart)) / 1e6 / wallSeconds,
      rss_max_bytes: this.rssMax,
      peak_rss_bytes: peakRssBytes(this.pid),
    };
  }
}
