import {
  type Context,
  type ErrorFrame,
  type GapFrame,
  type MessagesPage,
  type StreamServerFrame,
  streamCloseCodes,
} from '@fastpaca/contract';
import { errorFromResponse } from '../errors/error-from-response.js';
import { FastpacaError } from '../errors/fastpaca-error.js';
import { NetworkError } from '../errors/network-error.js';
import type { CredentialProvider } from '../http/credentials.js';
import { assert } from '../util/assert.js';
import { errorFromCloseCode, errorFromFrame } from './close-errors.js';
import { Connection, type ConnectionClosed } from './connection.js';
import { EventQueue } from './event-queue.js';
import type { SubscriptionEnd, SubscriptionEvent, SubscriptionStatus } from './events.js';
import type { GroupFrame } from './frames.js';
import { fillGap } from './gap-fill.js';
import { type ReconnectOptions, Reconnector, resolveReconnectOptions } from './reconnect.js';
import type { OpenSocket } from './socket.js';
import { streamUrl } from './stream-url.js';
import { VersionGroups } from './version-groups.js';

export interface SubscribeOptions {
  /**
   * The version you already have: events after it are delivered (replayed
   * first, then live). Omit to start from the current version (the SDK reads
   * the context first, so nothing between that read and the connection is lost).
   */
  cursor?: number;
  /**
   * The seq of the newest message you have at `cursor` (`last_seq` of the
   * context you read the version from). With it, a `gap` is filled with the
   * missed messages; without it, a gap before the first message frame is
   * reported as `reset`. Ignored without `cursor`.
   */
  lastSeq?: number;
  /** Receive `message` events (default true). */
  includeMessages?: boolean;
  signal?: AbortSignal;
  /** Backoff between reconnect attempts and how many failures in a row are tolerated. */
  reconnect?: Partial<ReconnectOptions>;
  /** A connection that has not opened after this long is abandoned and retried (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * A connection that delivered nothing (not even a `ping`) for this long is
   * presumed dead and replaced. Keep it above the server's ping interval
   * (30 s by default); default 90 s.
   */
  heartbeatTimeoutMs?: number;
  /** Events buffered for a slow consumer before the SDK stops reading (default 1000). */
  bufferSize?: number;
  /** A gap with more missed messages than this is reported as `reset` instead of filled (default 10 000). */
  gapFillMessagesMax?: number;
  onStatus?: (status: SubscriptionStatus) => void;
}

export interface SubscriptionListener {
  /** Awaited before the next event is delivered, so a slow handler slows the stream instead of growing a buffer. */
  onEvent: (event: SubscriptionEvent) => void | Promise<void>;
  /** A terminal error (also reported by `done`). An error thrown by `onEvent` ends the subscription too. */
  onError?: (error: Error) => void;
}

/** A running subscription. */
export interface Subscription {
  readonly status: SubscriptionStatus;
  /** Version of the newest event handed to the consumer (the cursor to resume from), if known. */
  readonly version: number | undefined;
  /** Resolves when the subscription has ended and its socket and timers are gone. Never rejects. */
  readonly done: Promise<SubscriptionEnd>;
  /** Stops now: buffered events are dropped, the socket is closed, timers are cleared. */
  abort(): void;
}

/** A subscription consumed with `for await`. Breaking out of the loop aborts it. */
export interface EventStream extends Subscription, AsyncIterable<SubscriptionEvent> {}

export interface SubscriptionDeps {
  contextId: string;
  baseUrl: string;
  openSocket: OpenSocket;
  /** Whether the socket layer reports refused upgrades (Node does; browsers hide them). */
  socketReportsRefusals: boolean;
  credential: CredentialProvider;
  getContext(signal: AbortSignal): Promise<Context>;
  /** A single-attempt read used to learn why a browser websocket failed to open. */
  probe(signal: AbortSignal): Promise<unknown>;
  listMessages(afterSeq: number, limit: number, signal: AbortSignal): Promise<MessagesPage>;
  random: () => number;
}

type Phase = 'starting' | 'connecting' | 'open' | 'waiting' | 'filling' | 'probing' | 'paused' | 'ended';

/**
 * A connection that stayed open this long counts as progress even without a
 * delivered version (an idle context), so the next outage starts its backoff
 * from the bottom. Shorter ones do not: a server that accepts and then drops
 * every connection must still meet a growing delay.
 */
const stableConnectionMs = 5_000;

const defaults = {
  connectTimeoutMs: 10_000,
  heartbeatTimeoutMs: 90_000,
  bufferSize: 1_000,
  gapFillMessagesMax: 10_000,
};

function positiveInt(value: number, name: string): number {
  assert(Number.isInteger(value) && value >= 1, `${name} must be a positive integer`);
  return value;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The subscription state machine. It owns at most one connection, one
 * reconnect timer and one in-flight REST read at a time, all released by
 * `finish`. It resumes from `lastVersion` (the newest complete version it
 * queued) after every disconnect, drops versions it already has, fills gaps
 * through REST, and stops reading while the consumer's buffer is full.
 */
export class StreamSubscription implements EventStream {
  private phase: Phase = 'starting';
  private statusValue: SubscriptionStatus = 'connecting';
  private connection: Connection | undefined;
  private lastVersion: number | undefined;
  private lastSeq: number | undefined;
  private delivered: number | undefined;
  private readonly groups = new VersionGroups();
  private pendingGap: GapFrame | undefined;
  private pendingError: ErrorFrame | undefined;
  private tombstoneQueued = false;
  private everOpened = false;
  /** The server closed an open stream because its token expired, and the reconnect has not opened yet. */
  private reauthorizing = false;
  /** The credential the newest connection used, and one the server refused (so a cache drops it). */
  private lastCredential: string | undefined;
  private refusedCredential: string | undefined;
  private gapsInARow = 0;
  private consumed = false;
  private readonly queue: EventQueue<SubscriptionEvent>;
  private readonly reconnector: Reconnector;
  private readonly internal = new AbortController();
  private readonly detachSignal: () => void;
  private readonly includeMessages: boolean;
  private readonly connectTimeoutMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly gapFillMessagesMax: number;
  private resolveDone!: (end: SubscriptionEnd) => void;
  readonly done: Promise<SubscriptionEnd>;

  constructor(
    private readonly deps: SubscriptionDeps,
    private readonly options: SubscribeOptions = {},
  ) {
    const { cursor, lastSeq } = options;
    assert(
      cursor === undefined || (Number.isInteger(cursor) && cursor >= 0),
      'cursor must be an integer >= 0',
    );
    assert(
      lastSeq === undefined || (Number.isInteger(lastSeq) && lastSeq >= 0),
      'lastSeq must be an integer >= 0',
    );
    this.includeMessages = options.includeMessages ?? true;
    this.connectTimeoutMs = positiveInt(
      options.connectTimeoutMs ?? defaults.connectTimeoutMs,
      'connectTimeoutMs',
    );
    this.heartbeatTimeoutMs = positiveInt(
      options.heartbeatTimeoutMs ?? defaults.heartbeatTimeoutMs,
      'heartbeatTimeoutMs',
    );
    this.gapFillMessagesMax = options.gapFillMessagesMax ?? defaults.gapFillMessagesMax;
    assert(
      Number.isInteger(this.gapFillMessagesMax) && this.gapFillMessagesMax >= 0,
      'gapFillMessagesMax must be an integer >= 0',
    );
    this.queue = new EventQueue(positiveInt(options.bufferSize ?? defaults.bufferSize, 'bufferSize'), () =>
      this.onDrained(),
    );
    this.reconnector = new Reconnector(resolveReconnectOptions(options.reconnect), deps.random);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.lastVersion = cursor;
    this.delivered = cursor;
    if (cursor !== undefined) this.lastSeq = lastSeq;

    const signal = options.signal;
    const onAbort = () => this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.detachSignal = () => signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) {
      this.abort();
      return;
    }
    if (cursor === undefined) void this.bootstrap();
    else void this.connect();
  }

  get status(): SubscriptionStatus {
    return this.statusValue;
  }

  get version(): number | undefined {
    return this.delivered;
  }

  abort(): void {
    this.finish({ reason: 'aborted' });
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionEvent, undefined> {
    assert(!this.consumed, 'a subscription has one consumer: iterate it once, or pass onEvent');
    this.consumed = true;
    return {
      next: async () => {
        const result = await this.queue.next();
        if (!result.done) this.delivered = result.value.version;
        return result;
      },
      return: async () => {
        this.abort();
        return { value: undefined, done: true };
      },
    };
  }

  /** Callback mode: feeds `listener` from the same buffer an iterator would read. */
  listen(listener: SubscriptionListener): void {
    const iterator = this[Symbol.asyncIterator]();
    void (async () => {
      for (;;) {
        let result: IteratorResult<SubscriptionEvent, undefined>;
        try {
          result = await iterator.next();
        } catch (error) {
          listener.onError?.(toError(error));
          return;
        }
        if (result.done) return;
        try {
          await listener.onEvent(result.value);
        } catch (error) {
          const failure = toError(error);
          this.finish({ reason: 'error', error: failure });
          listener.onError?.(failure);
          return;
        }
      }
    })();
  }

  private setStatus(status: SubscriptionStatus): void {
    if (this.statusValue === status) return;
    this.statusValue = status;
    this.options.onStatus?.(status);
  }

  /** Without a cursor, one consistent read of the context gives both the version and the last seq. */
  private async bootstrap(): Promise<void> {
    this.phase = 'starting';
    try {
      const context = await this.deps.getContext(this.internal.signal);
      if (this.phase !== 'starting') return;
      this.lastVersion = context.version;
      this.lastSeq = context.last_seq;
      this.delivered = context.version;
      if (context.status === 'tombstoned') {
        this.queue.push([{ type: 'tombstoned', version: context.version }]);
        this.finish({ reason: 'tombstoned' });
        return;
      }
      void this.connect();
    } catch (error) {
      this.handleFailure(error, () => void this.bootstrap());
    }
  }

  private async connect(): Promise<void> {
    if (this.phase === 'ended') return;
    this.phase = 'connecting';
    this.setStatus(this.everOpened || this.reconnector.attemptsInARow > 0 ? 'reconnecting' : 'connecting');
    let credential: string | undefined;
    try {
      credential = await this.deps.credential(this.refusedCredential);
      this.refusedCredential = undefined;
      this.lastCredential = credential;
    } catch (error) {
      // A token provider that failed (its own backend is down) is retried like a failed connection.
      this.scheduleRetry(() => void this.connect(), error);
      return;
    }
    if (this.phase !== 'connecting') return;
    this.pendingGap = undefined;
    this.pendingError = undefined;
    this.groups.clear();
    const url = streamUrl(this.deps.baseUrl, this.deps.contextId, {
      cursor: this.lastVersion,
      includeMessages: this.includeMessages,
    });
    try {
      this.connection = new Connection(
        this.deps.openSocket,
        {
          url,
          credential,
          connectTimeoutMs: this.connectTimeoutMs,
          heartbeatTimeoutMs: this.heartbeatTimeoutMs,
        },
        {
          onOpen: () => this.onOpen(),
          onFrame: (frame) => this.onFrame(frame),
          onClosed: (closed) => this.onClosed(closed),
        },
      );
    } catch (error) {
      this.finish({ reason: 'error', error: toError(error) });
    }
  }

  private onOpen(): void {
    if (this.phase !== 'connecting') return;
    this.phase = 'open';
    this.everOpened = true;
    this.reauthorizing = false;
    this.setStatus('open');
  }

  private onFrame(frame: StreamServerFrame): void {
    if (this.phase !== 'open') return;
    switch (frame.type) {
      case 'ping':
        return;
      case 'gap':
        this.pendingGap = frame;
        return;
      case 'error':
        this.pendingError = frame;
        return;
      case 'reset':
        this.groups.clear();
        this.lastVersion = frame.version;
        this.lastSeq = undefined;
        this.queue.push([frame]);
        this.pauseIfFull();
        return;
      default: {
        const group = this.groups.push(frame);
        if (group) this.deliverGroup(group);
      }
    }
  }

  private deliverGroup(group: GroupFrame[]): void {
    const version = group[0]!.version;
    // Replay after a reconnect can overlap what was already queued; versions are the dedup key.
    if (this.lastVersion !== undefined && version <= this.lastVersion) return;
    for (const frame of group) if (frame.type === 'message') this.lastSeq = frame.seq;
    this.lastVersion = version;
    this.reconnector.succeeded();
    this.gapsInARow = 0;
    this.queue.push(group);
    if (group.some((frame) => frame.type === 'tombstoned')) {
      this.tombstoneQueued = true;
      this.finish({ reason: 'tombstoned' });
      return;
    }
    this.pauseIfFull();
  }

  private pauseIfFull(): void {
    if (!this.queue.full || this.phase === 'ended') return;
    this.phase = 'paused';
    this.setStatus('paused');
    this.connection?.close('paused');
  }

  private onDrained(): void {
    if (this.phase === 'paused' && !this.connection) void this.connect();
  }

  private onClosed(closed: ConnectionClosed): void {
    this.connection = undefined;
    this.groups.clear();
    if (this.phase === 'ended') return;
    if (closed.openMs >= stableConnectionMs) this.reconnector.succeeded();
    if (this.tombstoneQueued || (closed.code === 1000 && closed.reason === 'tombstoned')) {
      this.finish({ reason: 'tombstoned' });
      return;
    }
    if (this.phase === 'paused') {
      if (this.queue.drained) void this.connect();
      return;
    }
    const errorFrame = this.pendingError;
    this.pendingError = undefined;
    const gap = this.pendingGap;
    this.pendingGap = undefined;
    const reconnect = () => void this.connect();
    if (errorFrame) {
      this.handleFailure(errorFromFrame(errorFrame), reconnect);
      return;
    }
    if (gap || closed.code === streamCloseCodes.gap) {
      void this.recoverGap();
      return;
    }
    if (closed.refusal?.status === 401 && !this.reauthorizing && this.lastCredential !== undefined) {
      // A cached token the server no longer takes (expired early by its clock, a rotated secret): ask
      // the credential function once more, for a fresh one, before giving up.
      this.reauthorizing = true;
      this.refusedCredential = this.lastCredential;
      void this.connect();
      return;
    }
    if (closed.refusal) {
      this.handleFailure(
        errorFromResponse({
          status: closed.refusal.status,
          body: closed.refusal.body,
          retryAfter: closed.refusal.retryAfter,
        }),
        reconnect,
      );
      return;
    }
    if (closed.code === streamCloseCodes.unauthorized && closed.opened && !this.reauthorizing) {
      // The token expired under an open stream: reconnect at once, asking the
      // credential function for a fresh one. If that is refused too, the
      // refusal ends the subscription.
      this.reauthorizing = true;
      this.refusedCredential = this.lastCredential;
      void this.connect();
      return;
    }
    if (closed.clientReason === 'protocol_error') {
      // A frame that breaks the contract would come again on every reconnect (it is replayed from the
      // same seq): report it once and end, rather than loop on it.
      const problem = closed.problem ?? 'invalid frame';
      this.finish({
        reason: 'error',
        error: new FastpacaError({
          status: 0,
          code: 'invalid_response',
          message: `stream of ${this.deps.contextId}: the server sent a frame this client cannot read (${problem})`,
          retryable: false,
        }),
      });
      return;
    }
    const fatal = errorFromCloseCode(closed.code, closed.reason);
    if (fatal) {
      this.handleFailure(fatal, reconnect);
      return;
    }
    if (!closed.opened && closed.clientReason === undefined && !this.deps.socketReportsRefusals) {
      void this.probe();
      return;
    }
    const why = closed.problem ?? closed.clientReason ?? (closed.reason || `code ${closed.code}`);
    this.scheduleRetry(reconnect, new NetworkError(`stream of ${this.deps.contextId} closed: ${why}`));
  }

  /** Browsers hide why an upgrade failed; the same credentials on a REST read tell auth and 404 apart from outages. */
  private async probe(): Promise<void> {
    this.phase = 'probing';
    try {
      await this.deps.probe(this.internal.signal);
    } catch (error) {
      if (FastpacaError.isInstance(error) && !error.isRetryable) {
        this.handleFailure(error, () => void this.connect());
        return;
      }
    }
    if (this.phase !== 'probing') return;
    this.scheduleRetry(() => void this.connect(), new NetworkError('stream connection failed'));
  }

  private async recoverGap(): Promise<void> {
    this.phase = 'filling';
    this.setStatus('reconnecting');
    try {
      const fill = await fillGap(
        {
          getContext: (signal) => this.deps.getContext(signal),
          listMessages: (afterSeq, limit, signal) => this.deps.listMessages(afterSeq, limit, signal),
        },
        {
          lastSeq: this.lastSeq,
          includeMessages: this.includeMessages,
          messagesMax: this.gapFillMessagesMax,
          signal: this.internal.signal,
        },
      );
      if (this.phase !== 'filling') return;
      const { context } = fill;
      const ahead = this.lastVersion === undefined || context.version > this.lastVersion;
      if (ahead) {
        this.queue.push([
          fill.kind === 'filled'
            ? { type: 'gap_filled', version: context.version, messages: fill.messages, context }
            : { type: 'reset', version: context.version },
        ]);
        this.lastVersion = context.version;
        this.lastSeq = context.last_seq;
      }
      if (context.status === 'tombstoned') {
        if (ahead) this.queue.push([{ type: 'tombstoned', version: context.version }]);
        this.finish({ reason: 'tombstoned' });
        return;
      }
      this.gapsInARow++;
      if (this.queue.full) {
        this.phase = 'paused';
        this.setStatus('paused');
        return;
      }
      // A second gap in a row means the replay buffer cannot keep up; back off instead of spinning.
      if (this.gapsInARow <= 1) void this.connect();
      else this.scheduleRetry(() => void this.connect(), undefined);
    } catch (error) {
      this.handleFailure(error, () => void this.connect());
    }
  }

  private handleFailure(error: unknown, retry: () => void): void {
    if (this.phase === 'ended') return;
    if (FastpacaError.isInstance(error)) {
      if (error.isRetryable) this.scheduleRetry(retry, error);
      else this.finish({ reason: 'error', error });
      return;
    }
    this.finish({ reason: 'error', error: toError(error) });
  }

  private scheduleRetry(retry: () => void, cause: unknown): void {
    if (this.phase === 'ended') return;
    this.phase = 'waiting';
    this.setStatus('reconnecting');
    if (this.reconnector.schedule(retry)) return;
    const attempts = this.reconnector.attemptsInARow;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    this.finish({
      reason: 'error',
      error: new NetworkError(
        `stream of ${this.deps.contextId}: gave up after ${attempts} failed attempts in a row${detail}`,
        cause,
      ),
    });
  }

  /** The one way out: releases the connection, the timer and in-flight reads, then settles `done`. */
  private finish(end: SubscriptionEnd): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.reconnector.cancel();
    this.internal.abort();
    this.detachSignal();
    const connection = this.connection;
    connection?.close('requested');
    if (end.reason === 'aborted') this.queue.clear();
    else if (end.reason === 'error') this.queue.fail(end.error);
    else this.queue.end();
    this.setStatus('closed');
    void (connection ? connection.closed : Promise.resolve()).then(() => this.resolveDone(end));
  }
}
