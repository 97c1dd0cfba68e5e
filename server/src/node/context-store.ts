import type {
  CompactResult,
  Context,
  MessageInput,
  MessagesPage,
  Policy,
  TailResponse,
  Window,
} from '@fastpaca/contract';
import type { ArchiveStore } from '../archive/archive-store.js';
import type {
  AppendValue,
  Applied,
  CommandResult,
  ContextCommand,
  LogPage,
  MessagesSlice,
  PreparedMessage,
  VersionValue,
} from '../context/index.js';
import { AppError, notFound, versionConflict } from '../errors/app-error.js';
import type { Metrics } from '../metrics/metrics.js';
import { groupOf } from '../placement/groups.js';
import type { ContextExecutor } from './context-executor.js';
import type { ContextRead, ContextReadValues } from './context-reads.js';
import type { ContextService } from './context-service.js';
import type { TokenCounter } from './token-counter.js';

export interface ContextStoreOptions {
  /** Runs commands and reads where the context's group is (this node, or over the node link). */
  executor: ContextExecutor;
  /** Why this node cannot serve yet, or undefined when it can. */
  notReadyReason: () => string | undefined;
  /** The storage error that stopped this node for good, if any. */
  failure: () => Error | undefined;
  tokens: TokenCounter;
  metrics: Metrics;
  /** Where messages trimmed from memory are read back from; without it such pages answer 503. */
  archive?: ArchiveStore;
  now?: () => number;
  groups?: number;
}

/**
 * The API's semantics on a node: every write becomes a command (tokens
 * counted and time stamped here, once) committed in the context's group and
 * answered from its applied result; every read is linearizable and served
 * from a replica's memory. Where that happens is the executor's business.
 */
export class ContextStore implements ContextService {
  private readonly now: () => number;
  private readonly groupCount: number | undefined;

  constructor(private readonly o: ContextStoreOptions) {
    this.now = o.now ?? Date.now;
    this.groupCount = o.groups;
  }

  private group(id: string): number {
    return groupOf(id, this.groupCount);
  }

  private async proposeApplied<T>(id: string, command: ContextCommand): Promise<Applied<T>> {
    return (await this.o.executor.execute(this.group(id), command)) as Applied<T>;
  }

  private async propose<T>(id: string, command: ContextCommand): Promise<T> {
    return unwrap((await this.proposeApplied<T>(id, command)).result);
  }

  /** Reads one context; a context that does not exist is a 404. */
  private async read<K extends ContextRead['op']>(
    id: string,
    read: Extract<ContextRead, { op: K }>,
  ): Promise<ContextReadValues[K]> {
    const value = await this.o.executor.read(this.group(id), id, read);
    if (value === undefined) throw notFound(id);
    return value as ContextReadValues[K];
  }

  async putContext(
    id: string,
    body: {
      token_budget: number;
      trigger_ratio?: number;
      policy?: Policy;
      metadata?: Record<string, unknown>;
    },
  ): Promise<Context> {
    return this.propose<Context>(id, stripUndefined({ type: 'put_context', id, at: this.now(), ...body }));
  }

  async getContext(id: string): Promise<Context> {
    return this.read(id, { op: 'get' });
  }

  async tombstone(id: string): Promise<void> {
    await this.propose<VersionValue>(id, { type: 'tombstone', id, at: this.now() });
  }

  async patchMetadata(id: string, metadata: Record<string, unknown>): Promise<Context> {
    return this.propose<Context>(id, { type: 'patch_metadata', id, at: this.now(), metadata });
  }

  /** Appends one message, or several as one atomic turn: one command, one version, all or nothing. */
  async append(
    id: string,
    input: { messages: readonly MessageInput[]; if_version?: number; idempotency_key?: string },
  ): Promise<AppendValue> {
    const prepared = await Promise.all(input.messages.map((m) => this.o.tokens.prepare(m)));
    const applied = await this.proposeApplied<AppendValue>(
      id,
      stripUndefined({
        type: 'append',
        id,
        at: this.now(),
        messages: prepared,
        if_version: input.if_version,
        idempotency_key: input.idempotency_key,
      }),
    );
    const value = unwrap(applied.result);
    if (!value.replayed) {
      prepared.forEach((message, i) => {
        this.observeMessage(message, input.messages[i]!.token_count !== undefined);
      });
      this.observeWindow(applied);
    }
    return value;
  }

  private observeMessage(message: PreparedMessage, clientCounted: boolean): void {
    const { metrics } = this.o;
    metrics.appendTotal.inc({ role: message.role, source: clientCounted ? 'client' : 'estimator' });
    metrics.messageTokens.observe(message.token_count);
  }

  private observeWindow(applied: Applied<AppendValue>): void {
    const { metrics } = this.o;
    // The version's context frame already carries the window size; reading the window would cost O(window).
    for (const { frame } of applied.events) {
      if (frame.type === 'context') metrics.llmTokenCount.observe(frame.used_tokens);
    }
  }

  async tail(id: string, offset: number, limit: number): Promise<TailResponse> {
    const page = await this.read(id, { op: 'tail', offset, limit });
    return { messages: await this.withArchive(id, page) };
  }

  async messages(id: string, afterSeq: number, limit: number): Promise<MessagesPage> {
    const page: MessagesSlice = await this.read(id, { op: 'messages', after_seq: afterSeq, limit });
    return { messages: await this.withArchive(id, page), next_after_seq: page.next_after_seq };
  }

  /** Pages reaching below the retained tail read that part from the archive. */
  private async withArchive(id: string, page: LogPage): Promise<LogPage['messages']> {
    const range = page.archived_range;
    if (!range) return page.messages;
    const span = `messages ${range.from_seq}..${range.to_seq} of ${id}`;
    if (!this.o.archive) throw new AppError('unavailable', `${span} are only in the archive`, undefined, 1);
    let archived: LogPage['messages'];
    try {
      archived = await this.o.archive.range(id, range.from_seq, range.to_seq);
    } catch (error) {
      throw new AppError(
        'unavailable',
        `${span} are in the archive, which cannot be read now: ${(error as Error).message}`,
        undefined,
        1,
      );
    }
    // Trimming only follows an acknowledged insert, so a short answer means the archive lost rows.
    if (archived.length !== range.to_seq - range.from_seq + 1) {
      throw new AppError(
        'unavailable',
        `${span}: the archive returned ${archived.length} of ${range.to_seq - range.from_seq + 1}`,
        undefined,
        1,
      );
    }
    return [...archived, ...page.messages];
  }

  async window(id: string, options: { budget_tokens?: number; if_version?: number }): Promise<Window> {
    const view = await this.read(
      id,
      options.budget_tokens === undefined
        ? { op: 'window' }
        : { op: 'window', budget_tokens: options.budget_tokens },
    );
    if (options.if_version !== undefined && options.if_version !== view.version) {
      throw versionConflict(options.if_version, view.version);
    }
    return view;
  }

  async compact(
    id: string,
    input: { replacement: MessageInput[]; if_version?: number },
  ): Promise<CompactResult> {
    const replacement = await Promise.all(input.replacement.map((m) => this.o.tokens.prepare(m)));
    return this.propose<VersionValue>(
      id,
      stripUndefined({ type: 'compact', id, at: this.now(), replacement, if_version: input.if_version }),
    );
  }

  notReadyReason(): string | undefined {
    return this.o.notReadyReason();
  }

  notLiveReason(): string | undefined {
    const failure = this.o.failure();
    return failure && `storage failed (${failure.message}); restart the node`;
  }
}

function unwrap<T>(result: CommandResult<T>): T {
  if (result.ok) return result.value;
  const { code, message, details } = result.error;
  throw new AppError(code, message, details);
}

/** Optional fields are left out of commands rather than encoded as `undefined`. */
function stripUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}
