import { cpuSeconds, ProcessSampler, processTreeCpuSeconds, threadCpuSeconds } from './process-stats.js';

export interface Usage {
  wall_s: number;
  /** The service process, all threads. */
  service_cpu_s: number;
  /** The service's main (JavaScript) thread only. */
  main_thread_cpu_s: number;
  /** The database's processes (Postgres and its backends, or redis-server), when they run on this machine. */
  db_cpu_s: number | undefined;
  loadgen_cpu_s: number;
  /** VmHWM of the service process: its peak over its whole life, which began with the scenario. */
  service_peak_rss_bytes: number;
  /** Share of the window the service's main thread was runnable but waiting for a CPU. */
  run_queue_wait_percent: number;
  /** Share of the window any task of the machine waited for a CPU (PSI "some"). */
  machine_cpu_stall_percent: number;
}

/** CPU and memory of a service, its database and the load generator over one measured window (Linux). */
export class UsageWindow {
  private readonly sampler: ProcessSampler;
  private readonly started = performance.now();
  private readonly mainStart: number;
  private readonly dbStart: number | undefined;
  private readonly loadgenStart: number;
  private readonly serviceStart: number;

  constructor(private readonly pids: { service: number; db?: number | undefined; loadgen: number }) {
    this.sampler = new ProcessSampler(pids.service);
    this.serviceStart = cpuSeconds(pids.service);
    this.mainStart = threadCpuSeconds(pids.service);
    this.dbStart = pids.db === undefined ? undefined : processTreeCpuSeconds(pids.db);
    this.loadgenStart = cpuSeconds(pids.loadgen);
  }

  stop(): Usage {
    const stats = this.sampler.stop();
    return {
      wall_s: (performance.now() - this.started) / 1000,
      service_cpu_s: cpuSeconds(this.pids.service) - this.serviceStart,
      main_thread_cpu_s: threadCpuSeconds(this.pids.service) - this.mainStart,
      db_cpu_s:
        this.pids.db === undefined || this.dbStart === undefined
          ? undefined
          : processTreeCpuSeconds(this.pids.db) - this.dbStart,
      loadgen_cpu_s: cpuSeconds(this.pids.loadgen) - this.loadgenStart,
      service_peak_rss_bytes: stats.peak_rss_bytes,
      run_queue_wait_percent: stats.run_queue_wait_percent,
      machine_cpu_stall_percent: stats.machine_cpu_stall_percent,
    };
  }
}
