import type { Logger } from 'pino';
import type { AckArchivedCommand, AckArchivedValue, Applied, ContextGroup } from '../context/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { waitAtMost } from '../util/wait-at-most.js';
import { type ArchiveRow, type ArchiveStore, archiveRow } from './archive-store.js';

export interface ArchiverOptions {
  store: ArchiveStore;
  groups: readonly number[];
  isLeader: (group: number) => boolean;
  contexts: (group: number) => ContextGroup;
  /** Proposes a command through the group's log; resolves with what applying it returned. */
  propose: (group: number, command: AckArchivedCommand) => Promise<Applied<AckArchivedValue>>;
  flush_interval_ms: number;
  batch_size: number;
  /** A batch also stops growing at about this many bytes (a message can be as large as the body limit). */
  batch_bytes_max?: number;
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
const batch_bytes_max_default = 32 * 1024 * 1024;
/** How long stop() waits for a flush in progress (its queries time out on their own later). */
const stop_wait_ms = 5_000;

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
    await waitAtMost(this.running, stop_wait_ms);
  }

  /** One flush; resolves with whether pending messages were left out (the next flush should follow at once). */
  async flush(): Promise<boolean> {
    const started = performance.now();
    const { batch, more } = this.collect();
    try {
      const rows = batch.flatMap((p) => p.rows);
      if (rows.length === 0) return false;
      this.o.metrics.archiveAttempted.inc(rows.length);
      const inserted = await this.o.store.insert(rows);
      this.o.metrics.archiveInserted.inc(inserted);
      await Promise.all(batch.map((p) => this.acknowledge(p)));
      return more;
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

  /**
   * Up to `batch_size` unarchived messages, and about `batch_bytes_max` bytes
   * (at least one message), of the groups led here: each context's contiguous
   * from its `archived_seq`. Also sets the pending gauges, and says whether
   * anything pending was left out.
   */
  private collect(): { batch: Pending[]; more: boolean } {
    const { metrics } = this.o;
    const batch: Pending[] = [];
    let rowsLeft = this.o.batch_size;
    let bytesLeft = this.o.batch_bytes_max ?? batch_bytes_max_default;
    let collected = 0;
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
        if (rowsLeft <= 0 || bytesLeft <= 0) continue;
        const rows: ArchiveRow[] = [];
        for (const message of contexts.unarchivedMessages(state.id, rowsLeft)) {
          const row = archiveRow(state.id, message);
          if (row.bytes > bytesLeft && collected > 0) {
            bytesLeft = 0;
            break;
          }
          rows.push(row);
          collected++;
          rowsLeft--;
          bytesLeft -= row.bytes;
        }
        if (rows.length > 0) batch.push({ group, id: state.id, rows });
      }
    }
    metrics.archivePendingRows.set(pendingRows);
    metrics.archivePendingContexts.set(pendingContexts);
    return { batch, more: collected < pendingRows };
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
