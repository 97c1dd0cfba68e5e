/**
 * What clients saw: every operation the workload invoked, with the time it
 * was invoked, the time its outcome arrived and that outcome. Times are
 * milliseconds from `performance.now()` in the one process that runs every
 * client, so they are comparable across clients.
 *
 * An outcome is `ok` (acknowledged), `fail` (the server proved it took no
 * effect: a 4xx, or a 503 with `outcome: not_applied`) or `unknown` (a
 * timeout, a lost connection, a 503 whose outcome is unknown): an unknown
 * write may take effect at any time after its invocation, or never.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

interface OpBase {
  /** Index in the history, for reports. */
  readonly index: number;
  /** Which client invoked it (one client runs one operation at a time). */
  readonly process: string;
  readonly context: string;
  /** The node the client sent it to. */
  readonly node: string;
  readonly invoke: number;
  /** When the outcome arrived; for `unknown`, when the client gave up. */
  readonly complete: number;
  readonly outcome: Outcome;
  /** The error a caller saw, when not ok. */
  readonly error?: string;
  /** The HTTP status of that error, when there was one. */
  readonly status?: number;
}

/** An append of one text message; every text is unique in a run. */
export interface AppendOp extends OpBase {
  readonly kind: 'append';
  readonly text: string;
  readonly key: string;
  readonly ifVersion?: number;
  /** When ok: where it landed. */
  readonly seq?: number;
  readonly version?: number;
  readonly replayed?: boolean;
  /** When it failed with 409 on `ifVersion`: the version the server found. */
  readonly found?: number;
}

/** The newest messages of the log (`GET /tail`, offset 0). */
export interface TailReadOp extends OpBase {
  readonly kind: 'tail';
  /** When ok: the messages read, oldest first. */
  readonly messages?: readonly ObservedMessage[];
}

/** The LLM window (`GET /context`). */
export interface WindowReadOp extends OpBase {
  readonly kind: 'window';
  readonly version?: number;
  /** Messages of the window; `seq` is null for compaction summaries. */
  readonly messages?: readonly ObservedMessage[];
}

export interface ObservedMessage {
  readonly seq: number | null;
  readonly text: string;
}

export type Op = AppendOp | TailReadOp | WindowReadOp;

/** What one stream subscriber received, in order (through the SDK, which reconnects and fills gaps). */
export interface StreamRecord {
  readonly process: string;
  readonly context: string;
  readonly node: string;
  /** The version and last seq the subscription started after (0, 0: from the beginning). */
  readonly fromVersion: number;
  readonly fromSeq: number;
  readonly events: readonly StreamEvent[];
}

export type StreamEvent =
  /** A live message frame. */
  | { readonly type: 'message'; readonly seq: number; readonly version: number; readonly text: string }
  /** The SDK filled a gap: every message after the last one delivered, up to the context's version. */
  | {
      readonly type: 'gap_filled';
      readonly version: number;
      readonly messages: readonly { readonly seq: number; readonly text: string }[];
    }
  /** The consumer's state could not be reconciled: continuity restarts after this version. */
  | { readonly type: 'reset'; readonly version: number; readonly lastSeq: number };

/** A context's whole log as read at the end of a run, when every node is healthy. */
export interface FinalLog {
  readonly context: string;
  /** Texts in seq order: `texts[i]` has seq i + 1. */
  readonly texts: readonly string[];
  readonly version: number;
}

/** A checker's finding, with the few operations that show it. */
export interface Anomaly {
  readonly checker: string;
  readonly context: string;
  readonly message: string;
  /** The smallest slice of the history that shows the anomaly. */
  readonly ops: readonly Op[];
}
