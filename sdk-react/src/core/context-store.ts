import type {
  AppendableMessage,
  AppendOptions,
  AppendResponse,
  Context,
  ContextHandle,
  Message,
  SubscribeOptions,
  Subscription,
  SubscriptionEnd,
  SubscriptionEvent,
} from '@fastpaca/sdk';
import { randomId, toMessageInput } from '@fastpaca/sdk';
import { assert, isAbortError, toError } from './assert.js';
import { type ContextAction, type ContextLimits, contextReducer } from './context-reducer.js';
import {
  type ContextState,
  initialContextState,
  type LocalMessage,
  type ViewStatus,
} from './context-state.js';
import { type ContextMessage, MessageViewBuilder } from './message-view.js';

export interface ContextStoreOptions extends ContextLimits {
  /** Messages of the first page, read when the view starts (1–1000). */
  pageSize: number;
  /**
   * How long a store with no subscriber waits before closing its stream. A
   * component that unmounts and mounts again in the same tick (React
   * StrictMode, a keyed re-mount) keeps the one subscription.
   */
  teardownDelayMs: number;
  /** Passed to every subscription this store opens (reconnect backoff, heartbeat, timeouts). */
  stream?: StreamOptions;
}

/** The subscription options a view lets you tune; cursor, signal and callbacks are its own. */
export type StreamOptions = Pick<
  SubscribeOptions,
  'reconnect' | 'connectTimeoutMs' | 'heartbeatTimeoutMs' | 'bufferSize' | 'gapFillMessagesMax'
>;

/** What `useContextMessages` renders. The object changes only when one of its fields does. */
export interface MessagesSnapshot {
  readonly messages: readonly ContextMessage[];
  readonly status: ViewStatus;
  readonly error: Error | undefined;
  /** Older messages exist before the first loaded one. */
  readonly hasOlder: boolean;
  readonly loadingOlder: boolean;
  readonly olderError: Error | undefined;
}

/** What `useContextWindow` renders; numbers are `undefined` until the first read. */
export interface WindowSnapshot {
  readonly status: ViewStatus;
  readonly error: Error | undefined;
  readonly version: number | undefined;
  readonly used_tokens: number | undefined;
  readonly needs_compaction: boolean | undefined;
  readonly token_budget: number | undefined;
  readonly trigger_ratio: number | undefined;
}

interface ListenerEntry {
  listener: () => void;
}

const pageSizeMax = 1_000;

/**
 * The live view of one context for one client, shared by every component that
 * shows it. It starts when its first subscriber arrives (never during render)
 * and closes its stream when the last one leaves; between the two it holds one
 * websocket subscription, at most one read of each kind in flight, and state
 * that changes only through `contextReducer`.
 */
export class ContextStore {
  private state: ContextState = initialContextState;
  private readonly listeners = new Set<ListenerEntry>();
  private readonly views = new MessageViewBuilder();
  private messagesSnapshot: MessagesSnapshot;
  private windowSnapshot: WindowSnapshot;
  private running = false;
  private disposedFlag = false;
  /** Bumped on every start and stop: results of reads begun under an older generation are dropped. */
  private generation = 0;
  private loads = 0;
  private subscription: Subscription | undefined;
  private requests: AbortController | undefined;
  private teardownTimer: ReturnType<typeof setTimeout> | undefined;
  private older: Promise<void> | undefined;
  private windowRead: Promise<void> | undefined;
  private streamDone: Promise<SubscriptionEnd | undefined> = Promise.resolve(undefined);

  constructor(
    readonly handle: ContextHandle,
    private readonly options: ContextStoreOptions,
    private readonly onDisposed: (store: ContextStore) => void = () => {},
  ) {
    assert(
      Number.isInteger(options.pageSize) && options.pageSize >= 1 && options.pageSize <= pageSizeMax,
      `pageSize must be an integer in 1..${pageSizeMax}`,
    );
    assert(
      Number.isInteger(options.messagesMax) && options.messagesMax >= options.pageSize,
      'messagesMax must be an integer >= pageSize',
    );
    this.messagesSnapshot = this.selectMessages(undefined);
    this.windowSnapshot = this.selectWindow(undefined);
  }

  get id(): string {
    return this.handle.id;
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  getState(): ContextState {
    return this.state;
  }

  getMessagesSnapshot(): MessagesSnapshot {
    return this.messagesSnapshot;
  }

  getWindowSnapshot(): WindowSnapshot {
    return this.windowSnapshot;
  }

  /** Number of subscribers right now. */
  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Resolves once the websocket of the last stream this store opened is closed. */
  whenStreamClosed(): Promise<SubscriptionEnd | undefined> {
    return this.streamDone;
  }

  /**
   * Adds a subscriber, starting the view if it is the first. The returned
   * function removes it; the last one out schedules the teardown.
   */
  subscribe(listener: () => void): () => void {
    assert(!this.disposedFlag, `the store of ${this.id} is disposed; acquire a new one`);
    const entry: ListenerEntry = { listener };
    this.cancelTeardown();
    this.listeners.add(entry);
    if (!this.running) this.start();
    return () => {
      if (!this.listeners.delete(entry)) return;
      if (this.listeners.size === 0) this.scheduleTeardown();
    };
  }

  /** Loads the page before the oldest loaded message. One load at a time; later calls share it. */
  loadOlder(pageSize: number = this.options.pageSize): Promise<void> {
    assert(
      Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= pageSizeMax,
      `pageSize must be an integer in 1..${pageSizeMax}`,
    );
    if (this.older) return this.older;
    if (!this.running || !this.messagesSnapshot.hasOlder) return Promise.resolve();
    const oldest = this.state.messages[0]!.seq;
    const generation = this.generation;
    const signal = this.requests!.signal;
    const after = Math.max(0, oldest - 1 - pageSize);
    this.dispatch({ type: 'older_started' });
    const load = async () => {
      try {
        const page = await this.handle.messages({ afterSeq: after, limit: oldest - 1 - after, signal });
        if (generation !== this.generation) return;
        this.dispatch({ type: 'older_loaded', messages: page.messages });
      } catch (error) {
        if (generation !== this.generation || isAbortError(error)) return;
        this.dispatch({ type: 'older_failed', error: toError(error) });
      } finally {
        this.older = undefined;
      }
    };
    this.older = load();
    return this.older;
  }

  /**
   * Appends with an optimistic row: the message is listed at once as
   * `sending`, becomes `sent` with its seq when acknowledged, and gives way to
   * the log's copy when the stream delivers it. A failed append removes the
   * row and rethrows.
   */
  async append(message: AppendableMessage, options: AppendOptions = {}): Promise<AppendResponse> {
    const local = localFromAppendable(message);
    this.dispatch({ type: 'local_upserted', message: local });
    try {
      const result = await this.handle.append(message, options);
      this.dispatch({ type: 'local_committed', id: local.id, seq: result.seq });
      return result;
    } catch (error) {
      this.dispatch({ type: 'local_removed', id: local.id });
      throw error;
    }
  }

  /** Shows (or updates) a message the log does not have yet, such as a reply being streamed. */
  upsertLocal(message: LocalMessage): void {
    this.dispatch({ type: 'local_upserted', message });
  }

  removeLocal(id: string): void {
    this.dispatch({ type: 'local_removed', id });
  }

  /** Starts over: a new stream and fresh reads (after an `error`, for instance). */
  retry(): void {
    if (!this.running) return;
    this.stop();
    this.start();
  }

  private start(): void {
    this.running = true;
    this.generation++;
    this.requests = new AbortController();
    this.dispatch({ type: 'started' });
    void this.load(this.generation);
  }

  private stop(): void {
    this.running = false;
    this.generation++;
    this.requests?.abort();
    this.requests = undefined;
    this.subscription?.abort();
    this.subscription = undefined;
    this.older = undefined;
    this.windowRead = undefined;
  }

  /**
   * Reads the context first: its version is the stream's cursor and its
   * `last_seq` bounds the first page, so nothing committed after the read is
   * missed and anything read twice is merged by seq.
   */
  private async load(generation: number): Promise<void> {
    const signal = this.requests!.signal;
    // A reset can start a load while an older one is still reading; only the newest may land.
    const attempt = ++this.loads;
    const current = () => generation === this.generation && attempt === this.loads;
    try {
      const context = await this.handle.get({ signal });
      if (!current()) return;
      if (!this.subscription && context.status !== 'tombstoned') this.openStream(generation, context);
      const [messages, window] = await Promise.all([
        this.latestPage(context.last_seq, signal),
        this.handle.context({ signal }),
      ]);
      if (!current()) return;
      this.dispatch({ type: 'loaded', context, messages, window });
    } catch (error) {
      if (!current() || isAbortError(error)) return;
      this.dispatch({ type: 'failed', error: toError(error) });
    }
  }

  private openStream(generation: number, context: Context): void {
    const subscription = this.handle.subscribe({
      ...this.options.stream,
      cursor: context.version,
      lastSeq: context.last_seq,
      onStatus: (status) => {
        if (generation === this.generation) this.dispatch({ type: 'stream_status', status });
      },
      onEvent: (event) => this.onEvent(generation, event),
      onError: (error) => {
        if (generation === this.generation) this.dispatch({ type: 'failed', error });
      },
    });
    this.subscription = subscription;
    this.streamDone = subscription.done;
  }

  private onEvent(generation: number, event: SubscriptionEvent): void {
    if (generation !== this.generation) return;
    this.dispatch({ type: 'event', event });
    // A gap fill carries the missed messages but not the window's numbers.
    if (event.type === 'gap_filled') void this.readWindow(generation);
    if (event.type === 'reset') void this.load(generation);
  }

  private async readWindow(generation: number): Promise<void> {
    if (this.windowRead) return this.windowRead;
    const signal = this.requests!.signal;
    const read = async () => {
      try {
        const window = await this.handle.context({ signal });
        if (generation === this.generation) this.dispatch({ type: 'window_loaded', window });
      } catch {
        // The next `context` event brings the numbers anyway.
      } finally {
        this.windowRead = undefined;
      }
    };
    this.windowRead = read();
    return this.windowRead;
  }

  private async latestPage(lastSeq: number, signal: AbortSignal): Promise<readonly Message[]> {
    if (lastSeq === 0) return [];
    const after = Math.max(0, lastSeq - this.options.pageSize);
    return (await this.handle.messages({ afterSeq: after, limit: lastSeq - after, signal })).messages;
  }

  private scheduleTeardown(): void {
    this.cancelTeardown();
    this.teardownTimer = setTimeout(() => {
      this.teardownTimer = undefined;
      if (this.listeners.size === 0) this.dispose();
    }, this.options.teardownDelayMs);
  }

  private cancelTeardown(): void {
    if (this.teardownTimer === undefined) return;
    clearTimeout(this.teardownTimer);
    this.teardownTimer = undefined;
  }

  private dispose(): void {
    if (this.disposedFlag) return;
    this.stop();
    this.disposedFlag = true;
    this.onDisposed(this);
  }

  private dispatch(action: ContextAction): void {
    const next = contextReducer(this.state, action, this.options);
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    this.messagesSnapshot = this.selectMessages(previous);
    this.windowSnapshot = this.selectWindow(previous);
    for (const entry of [...this.listeners]) entry.listener();
  }

  private selectMessages(previous: ContextState | undefined): MessagesSnapshot {
    const s = this.state;
    if (
      previous &&
      previous.messages === s.messages &&
      previous.local === s.local &&
      previous.adoptedKeys === s.adoptedKeys &&
      previous.status === s.status &&
      previous.error === s.error &&
      previous.loadingOlder === s.loadingOlder &&
      previous.olderError === s.olderError
    ) {
      return this.messagesSnapshot;
    }
    const oldest = s.messages[0]?.seq;
    return {
      messages: this.views.build(s.messages, s.local, s.adoptedKeys),
      status: s.status,
      error: s.error,
      hasOlder: oldest !== undefined && oldest > 1 && s.messages.length < this.options.messagesMax,
      loadingOlder: s.loadingOlder,
      olderError: s.olderError,
    };
  }

  private selectWindow(previous: ContextState | undefined): WindowSnapshot {
    const s = this.state;
    if (
      previous &&
      previous.window === s.window &&
      previous.context === s.context &&
      previous.status === s.status &&
      previous.error === s.error
    ) {
      return this.windowSnapshot;
    }
    return {
      status: s.status,
      error: s.error,
      version: s.window?.version,
      used_tokens: s.window?.used_tokens,
      needs_compaction: s.window?.needs_compaction,
      token_budget: s.context?.token_budget,
      trigger_ratio: s.context?.trigger_ratio,
    };
  }
}

/** The optimistic row of a message about to be appended, shaped as the log will store it. */
function localFromAppendable(message: AppendableMessage): LocalMessage {
  const uiId = typeof (message as { id?: unknown }).id === 'string' ? (message as { id: string }).id : null;
  // The same wire form the SDK sends, so the optimistic row matches the stored one.
  const metadata = { ...(toMessageInput(message).metadata ?? {}) };
  return {
    id: uiId ?? randomId(),
    role: message.role,
    parts: message.parts as LocalMessage['parts'],
    metadata,
    state: 'sending',
    seq: null,
    uiMessageId: uiId,
  };
}
