import type { Logger } from 'pino';
import type { AckArchivedCommand, AckArchivedValue, Applied, ContextGroup } from '../context/index.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ArchiveRow, ArchiveStore } from './archive-store.js';

export interface ArchiverOptions {
  store: ArchiveStore;
  groups: readonly number[];
  isLeader: (group: number) => boolean;
  contexts: (group: number) => ContextGroup;
  /** Proposes a command through the group's log; resolves with what applying it returned. */
  propose: (group: number, command: AckArchivedCommand) => Promise<Applied<AckArchivedValue>>;
  flush_interval_ms: number;
  batch_size: number;
  tail_keep: number;
  metrics: Metrics;
  logger: Logger;
}

interface Pending {
  group: number;
  id: string;
  rows: ArchiveRow[];
}

/** Failures are logged at most this often, so a Postgres outage does not flood the log. */
const failure_log_interval_ms = 30_000;

/**
 * Copies committed messages to the archive and then tells the group, through
 * its log, how far the archive reaches (`ack_archived`), which lets every
 * replica trim its in-memory tail. Only a group's leader archives; a new
 * leader starts from the replicated `archived_seq`, and the store ignores
 * rows it already has. An archive that is down only delays this: appends
 * never wait for it and nothing is trimmed that it has not acknowledged.
 */
export class Archiver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastFailureLog = 0;

  constructor(private readonly o: ArchiverOptions) {}

  start(): void {
    this.schedule(this.o.flush_interval_ms);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One flush; resolves with whether it filled a whole batch (more may be waiting). */
  async flush(): Promise<boolean> {
    const started = performance.now();
    const batch = this.collect();
    let full = false;
    try {
      const rows = batch.flatMap((p) => p.rows);
      if (rows.length === 0) return false;
      full = rows.length >= this.o.batch_size;
      this.o.metrics.archiveAttempted.inc(rows.length);
      const inserted = await this.o.store.insert(rows);
      this.o.metrics.archiveInserted.inc(inserted);
      await Promise.all(batch.map((p) => this.acknowledge(p)));
      return full;
    } finally {
      this.o.metrics.archiveFlushDuration.observe(performance.now() - started);
    }
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.flush().then(
        // A full batch means a backlog: keep going instead of waiting a whole interval.
        (full) => this.schedule(full ? 0 : this.o.flush_interval_ms),
        (error: Error) => {
          this.reportFailure(error);
          this.schedule(this.o.flush_interval_ms);
        },
      );
    }, delay);
  }

  /** Up to `batch_size` unarchived messages of the groups led here, and the pending gauges. */
  private collect(): Pending[] {
    const { metrics } = this.o;
    const batch: Pending[] = [];
    let room = this.o.batch_size;
    let pendingRows = 0;
    let pendingContexts = 0;
    for (const group of this.o.groups) {
      if (!this.o.isLeader(group)) continue;
      const contexts = this.o.contexts(group);
      for (const state of contexts.pendingArchive()) {
        const lag = state.last_seq - state.archived_seq;
        pendingRows += lag;
        pendingContexts++;
        metrics.archiveLag.observe(lag);
        if (room === 0) continue;
        const messages = contexts.unarchivedMessages(state.id, room);
        room -= messages.length;
        batch.push({
          group,
          id: state.id,
          rows: messages.map((message) => ({ context_id: state.id, message })),
        });
      }
    }
    metrics.archivePendingRows.set(pendingRows);
    metrics.archivePendingContexts.set(pendingContexts);
    return batch;
  }

  private async acknowledge(p: Pending): Promise<void> {
    const upto = p.rows[p.rows.length - 1]!.message.seq;
    let applied: Applied<AckArchivedValue>;
    try {
      applied = await this.o.propose(p.group, {
        type: 'ack_archived',
        id: p.id,
        upto_seq: upto,
        tail_keep: this.o.tail_keep,
      });
    } catch (error) {
      // Leadership moved or the node is stopping: the next leader archives from the replicated mark.
      this.o.logger.debug(
        { type: 'archive_ack_failed', context_id: p.id, seq: upto, err: error },
        'archive acknowledgement not committed',
      );
      return;
    }
    if (!applied.result.ok) return; // the context is gone from this group (snapshot restore)
    this.o.metrics.archiveTrimmed.inc(applied.result.value.trimmed);
    const state = this.o.contexts(p.group).archiveState(p.id);
    if (state) this.o.metrics.archiveTailSize.observe(state.retained);
  }

  private reportFailure(error: Error): void {
    const now = Date.now();
    if (now - this.lastFailureLog < failure_log_interval_ms) return;
    this.lastFailureLog = now;
    this.o.logger.warn(
      { type: 'archive_flush_failed', err: error },
      `archive flush failed (appends continue; the tail is not trimmed until it succeeds): ${error.message}`,
    );
  }
}
