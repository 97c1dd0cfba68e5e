import type { Message } from '@fastpaca/contract';
import {
  ConflictError,
  createClient,
  type FastpacaClient,
  FastpacaError,
  UnavailableError,
} from '@fastpaca/sdk';
import type { ObservedMessage, Op, Outcome, StreamEvent, StreamRecord } from './history.js';
import type { Rng } from './rng.js';

export const CHAOS_API_KEY = 'chaos-suite-api-key-0123456789abcdef';

/** How clients talk to the cluster: short per-attempt timeouts, so a dead node shows up as an error soon. */
export function chaosClient(url: string): FastpacaClient {
  return createClient({
    baseUrl: url,
    apiKey: CHAOS_API_KEY,
    timeoutMs: 5_000,
    retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 },
  });
}

export interface Endpoint {
  readonly node: string;
  readonly url: string;
}

type Unindexed = Op extends infer T ? (T extends Op ? Omit<T, 'index'> : never) : never;

/** Every operation and stream event clients saw, in the one clock of this process. */
export class HistoryRecorder {
  readonly ops: Op[] = [];
  readonly streams: StreamRecord[] = [];
  private readonly started = performance.now();

  now(): number {
    return performance.now() - this.started;
  }

  add(op: Unindexed): void {
    this.ops.push({ ...op, index: this.ops.length } as Op);
  }
}

/** What an error tells about an operation's effect. */
export function outcomeOf(error: unknown): { outcome: Outcome; status?: number; found?: number } {
  if (ConflictError.isInstance(error)) {
    return { outcome: 'fail', status: 409, ...(error.found !== undefined && { found: error.found }) };
  }
  // A 503 is unknown even when it says `not_applied`: the SDK retried, and an
  // earlier attempt that timed out may still apply.
  if (UnavailableError.isInstance(error)) return { outcome: 'unknown', status: error.status };
  if (FastpacaError.isInstance(error) && error.status >= 400 && error.status < 500 && error.status !== 408) {
    return { outcome: 'fail', status: error.status };
  }
  return { outcome: 'unknown', ...(FastpacaError.isInstance(error) && { status: error.status }) };
}

function observed(messages: readonly Message[]): ObservedMessage[] {
  return messages.map((m) => ({ seq: m.seq, text: textOf(m) }));
}

export function textOf(m: { parts: readonly unknown[] }): string {
  return (m.parts[0] as { text?: string } | undefined)?.text ?? '';
}

export interface WorkloadOptions {
  readonly endpoints: () => readonly Endpoint[];
  readonly contexts: readonly string[];
  readonly clients: number;
  readonly rng: Rng;
  /** Stop issuing operations after this many, whatever the time. */
  readonly maxOps: number;
}

/**
 * Clients issuing appends (a third of them guarded by `ifVersion`), tail reads
 * and window reads on a few contexts through every node, one operation at a
 * time each, as the SDK does them (idempotency keys, retries).
 */
export class Workload {
  readonly history = new HistoryRecorder();
  private running = true;
  private loops: Promise<void>[] = [];
  private issued = 0;
  private textCounter = 0;

  constructor(private readonly o: WorkloadOptions) {}

  start(): void {
    for (let i = 0; i < this.o.clients; i++) this.loops.push(this.loop(i, this.o.rng.fork()));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  get opCount(): number {
    return this.history.ops.length;
  }

  /**
   * Client `n` talks to node `n mod members` (as applications pin a
   * connection), so clients of healthy nodes keep working while one node is
   * cut off, and the longest gap between acknowledgements measures the store,
   * not clients stuck on a dead node.
   */
  private async loop(n: number, rng: Rng): Promise<void> {
    const process = `c${n}`;
    /** The newest version this client saw per context, for `ifVersion`. */
    const seen = new Map<string, number>();
    while (this.running && this.issued < this.o.maxOps) {
      this.issued++;
      const endpoints = this.o.endpoints();
      const { node, url } = endpoints[n % endpoints.length]!;
      const context = rng.pick(this.o.contexts);
      const handle = chaosClient(url).contextHandle(context);
      const roll = rng.next();
      const base = { process, context, node, invoke: this.history.now() };
      if (roll < 0.6) {
        const text = `${process}-${++this.textCounter}`;
        const key = `k-${text}`;
        const guard = rng.chance(0.33) ? seen.get(context) : undefined;
        const attempt = {
          ...base,
          kind: 'append' as const,
          text,
          key,
          ...(guard !== undefined && { ifVersion: guard }),
        };
        try {
          const r = await handle.append(
            { role: 'user', parts: [{ type: 'text', text }] },
            { idempotencyKey: key, ...(guard !== undefined && { ifVersion: guard }) },
          );
          seen.set(context, r.version);
          this.history.add({
            ...attempt,
            complete: this.history.now(),
            outcome: 'ok',
            seq: r.seq,
            version: r.version,
            replayed: r.replayed,
          });
        } catch (error) {
          const { outcome, status, found } = outcomeOf(error);
          if (found !== undefined) seen.set(context, found);
          this.history.add({
            ...attempt,
            complete: this.history.now(),
            outcome,
            error: (error as Error).message,
            ...(status !== undefined && { status }),
            ...(found !== undefined && { found }),
          });
        }
      } else if (roll < 0.8) {
        try {
          const tail = await handle.getTail({ limit: 5 });
          const newest = tail.messages.at(-1)?.seq ?? 0;
          seen.set(context, Math.max(seen.get(context) ?? 0, newest));
          this.history.add({
            ...base,
            kind: 'tail',
            complete: this.history.now(),
            outcome: 'ok',
            messages: observed(tail.messages),
          });
        } catch (error) {
          const { outcome, status } = outcomeOf(error);
          this.history.add({
            ...base,
            kind: 'tail',
            complete: this.history.now(),
            outcome,
            error: (error as Error).message,
            ...(status !== undefined && { status }),
          });
        }
      } else {
        try {
          const window = await handle.context();
          seen.set(context, window.version);
          this.history.add({
            ...base,
            kind: 'window',
            complete: this.history.now(),
            outcome: 'ok',
            version: window.version,
            messages: window.messages.map((m) => ({ seq: m.seq, text: textOf(m) })),
          });
        } catch (error) {
          const { outcome, status } = outcomeOf(error);
          this.history.add({
            ...base,
            kind: 'window',
            complete: this.history.now(),
            outcome,
            error: (error as Error).message,
            ...(status !== undefined && { status }),
          });
        }
      }
    }
  }
}

/**
 * A stream subscriber from the beginning of a context, through one node,
 * recording what the SDK delivers. A `reset` (state that cannot be
 * reconciled) ends one record and starts the next at the following message.
 */
export class StreamWatcher {
  private current: { fromVersion: number; fromSeq: number; events: StreamEvent[] } | undefined;
  private readonly records: StreamRecord[] = [];
  private readonly subscription;
  resets = 0;
  /** The newest seq delivered. */
  lastSeq = 0;

  constructor(
    private readonly process: string,
    readonly context: string,
    private readonly endpoint: Endpoint,
  ) {
    this.current = { fromVersion: 0, fromSeq: 0, events: [] };
    const handle = chaosClient(endpoint.url).contextHandle(context);
    this.subscription = handle.subscribe({
      cursor: 0,
      lastSeq: 0,
      reconnect: { maxAttempts: 1_000, maxDelayMs: 2_000 },
      heartbeatTimeoutMs: 15_000,
      onEvent: (event) => {
        if (event.type === 'reset') {
          this.close();
          this.resets++;
          return;
        }
        if (event.type === 'message') {
          this.current ??= { fromVersion: event.version - 1, fromSeq: event.seq - 1, events: [] };
          this.lastSeq = event.seq;
          this.current.events.push({
            type: 'message',
            seq: event.seq,
            version: event.version,
            text: textOf(event.message),
          });
        } else if (event.type === 'gap_filled') {
          const messages = event.messages.map((m) => ({ seq: m.seq, text: textOf(m) }));
          const first = messages[0];
          this.current ??= {
            fromVersion: 0,
            fromSeq: first ? first.seq - 1 : event.context.last_seq,
            events: [],
          };
          this.lastSeq = messages.at(-1)?.seq ?? this.lastSeq;
          this.current.events.push({ type: 'gap_filled', version: event.version, messages });
        }
      },
    });
  }

  private close(): void {
    if (this.current && this.current.events.length > 0) {
      this.records.push({
        process: this.process,
        context: this.context,
        node: this.endpoint.node,
        ...this.current,
      });
    }
    this.current = undefined;
  }

  async stop(): Promise<StreamRecord[]> {
    this.subscription.abort();
    await this.subscription.done;
    this.close();
    return this.records;
  }
}
