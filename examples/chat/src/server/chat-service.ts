import { ConflictError, type ContextHandle, type FastpacaClient, type TokenResponse } from '@fastpaca/sdk';
import type { ChatModel } from './models/chat-model.js';

export interface ChatServiceOptions {
  client: FastpacaClient;
  model: ChatModel;
  tokenBudget: number;
  triggerRatio: number;
}

/** A user turn as the browser sends it: an ai-sdk UI message and the id to store the reply under. */
export interface Turn {
  message: { id: string; role: 'user'; parts: { type: 'text'; text: string }[] };
  assistantMessageId: string;
}

export interface CompactResult {
  compacted: boolean;
  /** Messages of the window replaced by the summary. */
  summarized: number;
  used_tokens_before: number;
  used_tokens_after: number;
  version: number;
}

/** How the reply of a turn ended. `partial` replies were cut short and are stored as they stood. */
export interface TurnOutcome {
  reply: string;
  partial: boolean;
  error: Error | undefined;
}

/** Messages kept verbatim after the summary when a chat is compacted. */
const keepRecent = 2;
/** A compaction that keeps losing the race against new appends gives up after this many tries. */
const compactAttemptsMax = 3;
/** Contexts known to exist; a bound keeps a long-running backend's memory flat. */
const knownContextsMax = 10_000;
/** Scoped tokens live this long; the page asks for a new one before it expires. */
const tokenTtlSeconds = 900;

/**
 * The server side of the chat: everything that needs the API key. The
 * browser reads the log with a read-only scoped token; user messages, replies
 * and compactions go through here.
 */
export class ChatService {
  private readonly known = new Set<string>();

  constructor(private readonly options: ChatServiceOptions) {}

  get modelName(): string {
    return this.options.model.name;
  }

  /**
   * The chat's context, created on first use with a `manual` policy: nothing
   * is trimmed behind the user's back; the meter turns amber and the user
   * compacts with a summary.
   */
  async context(id: string): Promise<ContextHandle> {
    if (this.known.has(id)) return this.options.client.contextHandle(id);
    const handle = await this.options.client.context(id, {
      budget: this.options.tokenBudget,
      trigger: this.options.triggerRatio,
      policy: { strategy: 'manual' },
    });
    if (this.known.size >= knownContextsMax) this.known.clear();
    this.known.add(id);
    return handle;
  }

  /** A token that can read this one chat and nothing else. */
  async token(id: string): Promise<TokenResponse> {
    const ctx = await this.context(id);
    return ctx.createToken({ rights: ['read'], ttlSeconds: tokenTtlSeconds });
  }

  /**
   * One turn: store the user's message, read the window (trimmed to the
   * budget for the model), stream the reply through `write`, then store it.
   * When `signal` aborts (the user pressed stop, the tab closed), the reply so
   * far is stored marked `partial` rather than dropped: it was on screen.
   * Returns after the reply is stored.
   */
  async turn(
    id: string,
    turn: Turn,
    write: (delta: string) => void,
    signal: AbortSignal,
  ): Promise<TurnOutcome> {
    const ctx = await this.context(id);
    await ctx.append(turn.message);
    const window = await ctx.context({ budgetTokens: this.options.tokenBudget });
    let reply = '';
    let error: Error | undefined;
    try {
      for await (const delta of this.options.model.reply(window.messages, signal)) {
        if (signal.aborted) break;
        reply += delta;
        write(delta);
      }
    } catch (failure) {
      if (!signal.aborted) error = failure instanceof Error ? failure : new Error(String(failure));
    }
    const partial = signal.aborted || error !== undefined;
    if (reply) {
      const metadata: Record<string, unknown> = partial ? { partial: true } : {};
      if (error) metadata.error = error.message;
      await ctx.append({
        id: turn.assistantMessageId,
        role: 'assistant',
        parts: [{ type: 'text', text: reply }],
        metadata,
      });
    }
    return { reply, partial, error };
  }

  /**
   * Replaces all but the last few messages of the window with a summary.
   * `ifVersion` makes the swap atomic: a message appended meanwhile fails the
   * compaction with a conflict (instead of being lost from the window), and it
   * is retried on the new window.
   */
  async compact(id: string, signal: AbortSignal): Promise<CompactResult> {
    const ctx = await this.context(id);
    for (let attempt = 1; ; attempt++) {
      const window = await ctx.context({ signal });
      const older = window.messages.slice(0, -keepRecent);
      if (older.length < 2) {
        return {
          compacted: false,
          summarized: 0,
          used_tokens_before: window.used_tokens,
          used_tokens_after: window.used_tokens,
          version: window.version,
        };
      }
      const summary = await this.options.model.summarize(older, signal);
      const recent = window.messages.slice(-keepRecent).map((m) => ({
        role: m.role,
        parts: m.parts,
        metadata: m.metadata,
        token_count: m.token_count,
      }));
      try {
        const { version } = await ctx.compact(
          [
            {
              role: 'system',
              parts: [{ type: 'text', text: summary }],
              metadata: { summary: true, summarized: older.length },
            },
            ...recent,
          ],
          { ifVersion: window.version, signal },
        );
        const after = await ctx.context({ signal });
        return {
          compacted: true,
          summarized: older.length,
          used_tokens_before: window.used_tokens,
          used_tokens_after: after.used_tokens,
          version,
        };
      } catch (error) {
        if (!ConflictError.isInstance(error) || attempt >= compactAttemptsMax) throw error;
      }
    }
  }
}
