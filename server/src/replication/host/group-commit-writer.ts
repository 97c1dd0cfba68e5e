import type { PersistAck, Ready } from '../../raft/index.js';
import type { Runtime } from '../../util/runtime.js';
import type { GroupWrite, RaftStorage } from '../storage/raft-storage.js';

export interface GroupCommitWriterOptions {
  storage: RaftStorage;
  runtime: Runtime;
  /** Writes became durable: report their acknowledgements to the core, in write order. */
  onDurable: (acks: readonly PersistAck[]) => void;
  /** A write failed: the durable state is unknown, so the node must stop acknowledging anything. */
  onFailed: (error: Error) => void;
  /** One durable write took `ms` and carried `groups` groups' state. */
  onWrite?: (ms: number, groups: number) => void;
}

/**
 * Group commit: at most one storage write is in flight. Whatever the turns
 * produce meanwhile is queued and goes out as the next single write (one
 * frame, one O_DSYNC write), so the batch grows with the load instead of the
 * number of fsyncs. Acknowledgements are reported in write order, and only
 * for writes the storage made durable.
 */
export class GroupCommitWriter {
  private writing = false;
  private queuedWrites: GroupWrite[] = [];
  private queuedAcks: PersistAck[] = [];
  /** Acknowledgements of the write in flight, reported when it is durable. */
  private writingAcks: PersistAck[] = [];
  private lastWrite: Promise<void> = Promise.resolve();
  private failed = false;
  private stopped = false;

  constructor(private readonly o: GroupCommitWriterOptions) {}

  /** Queues the persistence part of a turn's readies; writes at once if no write is in flight. */
  submit(readies: readonly Ready[]): void {
    if (this.failed || this.stopped) return;
    for (const r of readies) {
      if (r.snapshot || r.entries.length > 0 || r.hard_state) {
        this.queuedWrites.push({
          group: r.group,
          ...(r.snapshot && { snapshot: r.snapshot }),
          ...(r.entries.length > 0 && { entries: r.entries }),
          ...(r.hard_state && { hardState: r.hard_state }),
        });
      }
      if (r.ack) this.queuedAcks.push(r.ack);
    }
    if (!this.writing) this.flush();
  }

  /** Queues a write that no `Ready` carries (a new replica's id), in order with the rest. */
  submitWrite(write: GroupWrite): void {
    if (this.failed || this.stopped) return;
    this.queuedWrites.push(write);
    if (!this.writing) this.flush();
  }

  /** Nothing queued and nothing in flight. */
  idle(): boolean {
    return !this.writing && this.queuedWrites.length === 0 && this.queuedAcks.length === 0;
  }

  /** Resolves when the write in flight (if any) has settled. */
  settled(): Promise<void> {
    return this.lastWrite.catch(() => {});
  }

  /**
   * Forgets a group whose replica was destroyed: its queued writes are never
   * issued, and acknowledgements of a write in flight are not reported (a new
   * replica of the group may exist by then, with its own write sequence).
   */
  dropGroup(group: number): void {
    this.queuedWrites = this.queuedWrites.filter((w) => w.group !== group);
    this.queuedAcks = this.queuedAcks.filter((a) => a.group !== group);
    this.writingAcks = this.writingAcks.filter((a) => a.group !== group);
  }

  /** Stops reporting: acknowledgements of writes still in flight are dropped. */
  stop(): void {
    this.stopped = true;
  }

  private flush(): void {
    const writes = this.queuedWrites;
    const acks = this.queuedAcks;
    this.queuedWrites = [];
    this.queuedAcks = [];
    if (writes.length === 0) {
      if (acks.length > 0) this.o.onDurable(acks);
      return;
    }
    this.writing = true;
    this.writingAcks = acks;
    const started = this.o.runtime.now();
    let write: Promise<void>;
    try {
      write = this.o.storage.write(writes);
    } catch (error) {
      // A write that would break the log is a bug: stop rather than acknowledge it.
      this.fail(error as Error);
      return;
    }
    this.lastWrite = write.then(
      () => {
        this.writing = false;
        if (this.stopped || this.failed) return;
        this.o.onWrite?.(this.o.runtime.now() - started, writes.length);
        const durable = this.writingAcks;
        this.writingAcks = [];
        if (durable.length > 0) this.o.onDurable(durable);
        if (this.queuedWrites.length > 0 || this.queuedAcks.length > 0) this.flush();
      },
      (error: Error) => this.fail(error),
    );
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.writing = false;
    this.queuedWrites = [];
    this.queuedAcks = [];
    if (!this.stopped) this.o.onFailed(error);
  }
}
