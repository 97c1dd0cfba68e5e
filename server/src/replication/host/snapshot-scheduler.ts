import type { Checksum, GroupId } from '../../raft/index.js';
import type { Runtime } from '../../util/runtime.js';
import type { GroupStateMachine, SnapshotSteps } from './state-machine.js';

export interface SnapshotSchedulerOptions {
  runtime: Runtime;
  checksum: Checksum;
  /** How long one slice of snapshot work may hold the event loop. */
  slice_ms: number;
  /** Bytes checksummed per step while finishing a snapshot. */
  checksum_piece_bytes?: number;
  /** A snapshot of `group` at `index` is ready: hand it to the core. */
  compact: (group: GroupId, index: number, data: Uint8Array, checksum: number) => void;
  /** False once the host stops or fails: pending work is dropped. */
  running: () => boolean;
}

interface Job {
  readonly index: number;
  readonly steps: SnapshotSteps;
  data: Uint8Array | undefined;
  crc: number;
  checked: number;
}

/**
 * Snapshots taken while the node keeps serving: the group's state is captured
 * at its applied index at once, then encoded and checksummed a slice at a time
 * between turns. A group holding a long history takes many milliseconds to
 * encode, and every other group would otherwise wait that long.
 */
export class SnapshotScheduler {
  private readonly jobs = new Map<GroupId, Job>();
  private scheduled = false;
  private readonly piece: number;

  constructor(private readonly o: SnapshotSchedulerOptions) {
    this.piece = o.checksum_piece_bytes ?? 4 * 1024 * 1024;
  }

  busy(group: GroupId): boolean {
    return this.jobs.has(group);
  }

  /** Captures the group's state now (at `index`, its applied index) and encodes it in the background. */
  start(group: GroupId, index: number, machine: GroupStateMachine): void {
    if (this.jobs.has(group)) return;
    // Without an encoder, the state is encoded at once: later steps would see entries applied after `index`.
    const steps = machine.snapshotEncoder?.() ?? eager(machine.snapshot());
    this.jobs.set(group, { index, steps, data: undefined, crc: 0, checked: 0 });
    this.schedule();
  }

  /** A leader's snapshot replaced the log the job was capturing: drop it. */
  cancel(group: GroupId): void {
    this.jobs.delete(group);
  }

  cancelAll(): void {
    this.jobs.clear();
  }

  /** Snapshots the group at once (shutdown). */
  takeNow(group: GroupId, index: number, machine: GroupStateMachine): void {
    this.jobs.delete(group);
    const data = machine.snapshot();
    this.o.compact(group, index, data, this.o.checksum(data));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Between turns, not as a microtask: network and disk callbacks run between slices.
    this.o.runtime.soon(() => {
      this.scheduled = false;
      this.work();
    });
  }

  private work(): void {
    if (!this.o.running()) {
      this.jobs.clear();
      return;
    }
    const deadline = this.o.runtime.now() + this.o.slice_ms;
    for (const [group, job] of this.jobs) {
      if (this.advance(job, deadline)) {
        this.jobs.delete(group);
        this.o.compact(group, job.index, job.data!, job.crc);
      }
      if (this.o.runtime.now() >= deadline) break;
    }
    if (this.jobs.size > 0) this.schedule();
  }

  /** Encodes, then checksums, until done (true) or the slice is used up. */
  private advance(job: Job, deadline: number): boolean {
    if (job.data === undefined) {
      job.data = job.steps.step(deadline, this.o.runtime.now);
      if (job.data === undefined) return false;
    }
    const data = job.data;
    while (job.checked < data.length) {
      const end = Math.min(data.length, job.checked + this.piece);
      job.crc = this.o.checksum(data.subarray(job.checked, end), job.crc);
      job.checked = end;
      if (job.checked < data.length && this.o.runtime.now() >= deadline) return false;
    }
    return true;
  }
}

function eager(data: Uint8Array): SnapshotSteps {
  return { step: () => data };
}
