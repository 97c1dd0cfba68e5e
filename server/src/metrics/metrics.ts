import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const exponential = (start: number, factor: number, count: number) =>
  Array.from({ length: count }, (_, i) => Math.round(start * factor ** i * 1e6) / 1e6);

/**
 * Every Prometheus series the node exports, in one registry per node (tests run
 * several nodes in one process). Names are listed in docs/metrics.md. Per-context values
 * (lag, tail size, window tokens) are histograms over contexts rather than one
 * labelled series per context, which would grow without bound.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly appendTotal = new Counter({
    name: 'fastpaca_messages_append_total',
    help: 'Messages appended, by role and by where the token count came from (client or estimator).',
    labelNames: ['role', 'source'] as const,
    registers: [this.registry],
  });

  readonly messageTokens = new Histogram({
    name: 'fastpaca_messages_token_count',
    help: 'Token count per appended message.',
    buckets: exponential(1, 4, 10),
    registers: [this.registry],
  });

  readonly llmTokenCount = new Histogram({
    name: 'fastpaca_archive_llm_token_count',
    help: 'LLM window token count of a context, observed after each append.',
    buckets: exponential(64, 4, 9),
    registers: [this.registry],
  });

  readonly tokenCountOffloaded = new Counter({
    name: 'fastpaca_token_count_offloaded_total',
    help: 'Messages large enough that their tokens were counted on the worker pool, off the event loop.',
    registers: [this.registry],
  });

  readonly archivePendingRows = new Gauge({
    name: 'fastpaca_archive_pending_rows',
    help: 'Messages waiting to be written to the archive.',
    registers: [this.registry],
  });

  readonly archivePendingContexts = new Gauge({
    name: 'fastpaca_archive_pending_contexts',
    help: 'Contexts with messages waiting to be archived.',
    registers: [this.registry],
  });

  readonly archiveFlushDuration = new Histogram({
    name: 'fastpaca_archive_flush_duration_ms',
    help: 'Duration of an archive flush tick, in milliseconds.',
    buckets: exponential(1, 2, 14),
    registers: [this.registry],
  });

  readonly archiveAttempted = new Counter({
    name: 'fastpaca_archive_attempted_total',
    help: 'Rows the archiver tried to insert.',
    registers: [this.registry],
  });

  readonly archiveInserted = new Counter({
    name: 'fastpaca_archive_inserted_total',
    help: 'Rows the archiver inserted (duplicates excluded).',
    registers: [this.registry],
  });

  readonly archiveLag = new Histogram({
    name: 'fastpaca_archive_lag',
    help: 'Per-context archive lag (last_seq - archived_seq), observed at each flush.',
    buckets: exponential(1, 4, 10),
    registers: [this.registry],
  });

  readonly archiveTailSize = new Histogram({
    name: 'fastpaca_archive_tail_size',
    help: 'Per-context retained tail size after trimming.',
    buckets: exponential(16, 4, 9),
    registers: [this.registry],
  });

  readonly archiveTrimmed = new Counter({
    name: 'fastpaca_archive_trimmed_total',
    help: 'Messages trimmed from the in-memory tail after archiving.',
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'fastpaca_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly streamFramesSent = new Counter({
    name: 'fastpaca_stream_frames_sent_total',
    help: 'Websocket frames sent to stream subscribers.',
    registers: [this.registry],
  });

  readonly streamClosed = new Counter({
    name: 'fastpaca_stream_closed_total',
    help: 'Stream connections closed by the server, by reason (slow_consumer, heartbeat_timeout, ...).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly streamRefused = new Counter({
    name: 'fastpaca_stream_refused_total',
    help: 'Stream upgrades refused, by reason (unauthorized, forbidden, capacity).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Set by the stream layer; reads the live connection count at scrape time. */
  streamConnections(read: () => number): void {
    new Gauge({
      name: 'fastpaca_stream_connections',
      help: 'Open websocket stream connections on this node.',
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  constructor(options: { nodeName: string; defaultMetrics?: boolean }) {
    this.registry.setDefaultLabels({ node: options.nodeName });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
