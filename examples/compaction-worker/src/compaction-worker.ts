import {
  ConflictError,
  type ContextHandle,
  type FastpacaClient,
  type Subscription,
  type SubscriptionEvent,
  type WindowMessage,
} from '@fastpaca/sdk';
import type { Summarizer } from './summarize.js';

export interface CompactionEvent {
  contextId: string;
  /** Window messages replaced by the summary. */
  summarized: number;
  usedTokensBefore: number;
  usedTokensAfter: number;
  version: number;
}

export interface CompactionWorkerOptions {
  client: FastpacaClient;
  summarize: Summarizer;
  /** Newest window messages kept verbatim after the summary (default 4). */
  keepRecent?: number;
  /** Contexts watched at once (default 1 000); `watch` beyond it throws. */
  contextsMax?: number;
  onCompacted?: (event: CompactionEvent) => void;
  onError?: (contextId: string, error: Error) => void;
}

interface Watched {
  handle: ContextHandle;
  subscription: Subscription;
  /** The compaction in flight, if any; one per context at a time. */
  running: Promise<void> | undefined;
  /** `needs_compaction` was seen again while a compaction ran: check once more afterwards. */
  again: boolean;
}

/** Conflicts in a row (appends racing the compaction) before a context is left for its next event. */
const attemptsMax = 3;

/**
 * Compacts contexts that use the `manual` policy (or any other) when their
 * window crosses the trigger. It follows each context's stream without
 * messages (`context` events carry `needs_compaction`), so a busy context
 * costs one small frame per append. At most one compaction per context runs
 * at a time; each swaps the window atomically with `ifVersion`, so a message
 * appended meanwhile is never lost from the window, only retried around.
 */
export class CompactionWorker {
  private readonly watched = new Map<string, Watched>();
  private readonly keepRecent: number;
  private readonly contextsMax: number;

  constructor(private readonly options: CompactionWorkerOptions) {
    this.keepRecent = options.keepRecent ?? 4;
    this.contextsMax = options.contextsMax ?? 1_000;
    if (!Number.isInteger(this.keepRecent) || this.keepRecent < 0)
      throw new Error('keepRecent must be an integer >= 0');
  }

  /**
   * Starts watching a context: it is checked right away, then whenever its
   * window reports `needs_compaction`. Resolves once the stream is set up from
   * the context's current version, so no flip after that is missed, even
   * before the websocket opens.
   */
  async watch(contextId: string): Promise<void> {
    if (this.watched.has(contextId)) return;
    if (this.watched.size >= this.contextsMax)
      throw new Error(`already watching ${this.contextsMax} contexts`);
    const handle = this.options.client.contextHandle(contextId);
    const { version, last_seq } = await handle.get();
    if (this.watched.has(contextId)) return;
    const entry: Watched = {
      handle,
      running: undefined,
      again: false,
      subscription: handle.subscribe({
        cursor: version,
        lastSeq: last_seq,
        includeMessages: false,
        onEvent: (event) => this.onEvent(contextId, event),
        onError: (error) => {
          this.watched.delete(contextId);
          this.options.onError?.(contextId, error);
        },
      }),
    };
    this.watched.set(contextId, entry);
    this.schedule(entry);
  }

  unwatch(contextId: string): void {
    const entry = this.watched.get(contextId);
    if (!entry) return;
    this.watched.delete(contextId);
    entry.subscription.abort();
  }

  /** Stops every subscription and waits for compactions in flight. */
  async close(): Promise<void> {
    const entries = [...this.watched.values()];
    this.watched.clear();
    for (const entry of entries) entry.subscription.abort();
    await Promise.all(entries.map((entry) => Promise.all([entry.running, entry.subscription.done])));
  }

  private onEvent(contextId: string, event: SubscriptionEvent): void {
    const entry = this.watched.get(contextId);
    if (!entry) return;
    if (event.type === 'context' && event.needs_compaction) this.schedule(entry);
    if (event.type === 'gap_filled' || event.type === 'reset') this.schedule(entry);
    if (event.type === 'tombstoned') this.watched.delete(contextId);
  }

  private schedule(entry: Watched): void {
    if (entry.running) {
      entry.again = true;
      return;
    }
    entry.running = this.compactIfNeeded(entry).finally(() => {
      entry.running = undefined;
      if (entry.again && this.watched.get(entry.handle.id) === entry) {
        entry.again = false;
        this.schedule(entry);
      }
    });
  }

  private async compactIfNeeded(entry: Watched): Promise<void> {
    const { handle } = entry;
    try {
      for (let attempt = 1; attempt <= attemptsMax; attempt++) {
        const window = await handle.context();
        if (!window.needs_compaction) return;
        const keepFrom = keepFromIndex(window.messages, this.keepRecent);
        const older = window.messages.slice(0, keepFrom);
        // One message (an earlier summary) alone is not worth a compaction, and stopping here is what ends a
        // window whose recent messages alone are over the trigger instead of compacting it forever.
        if (older.length < 2) return;
        const recent = window.messages.slice(keepFrom).map((m) => ({
          role: m.role,
          parts: m.parts,
          metadata: m.metadata,
          token_count: m.token_count,
        }));
        const summary = await this.options.summarize(older);
        try {
          const { version } = await handle.compact([...summary, ...recent], { ifVersion: window.version });
          const after = await handle.context();
          this.options.onCompacted?.({
            contextId: handle.id,
            summarized: older.length,
            usedTokensBefore: window.used_tokens,
            usedTokensAfter: after.used_tokens,
            version,
          });
          return;
        } catch (error) {
          if (!ConflictError.isInstance(error) || !error.isVersionMismatch) throw error;
        }
      }
      // Still racing appends: the next `context` event brings this context back.
    } catch (error) {
      this.options.onError?.(handle.id, error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/**
 * Where the verbatim tail of the window starts: `keepRecent` messages from the
 * end, moved back past tool results so a result never loses its call.
 */
export function keepFromIndex(messages: readonly WindowMessage[], keepRecent: number): number {
  let index = Math.max(0, messages.length - keepRecent);
  while (index > 0 && messages[index]!.role === 'tool') index--;
  return index;
}
