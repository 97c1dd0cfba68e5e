import type { Message } from '@fastpaca/contract';
import { applyAckArchived } from './apply-ack-archived.js';
import { applyAppend } from './apply-append.js';
import { applyCompact } from './apply-compact.js';
import { applyPatchMetadata, applyPutContext, applyTombstone, type Contexts } from './apply-config.js';
import { assert } from './assert.js';
import type { ContextCommand } from './commands.js';
import { contextView } from './context-state.js';
import type { Applied, CommandValues, ContextView } from './results.js';
import { decodeSnapshot, type SnapshotEncoder, snapshotEncoder } from './snapshot.js';
import {
  type LogPage,
  type MessagesSlice,
  messagesAfter,
  tailPage,
  type WindowOptions,
  type WindowView,
  windowView,
} from './views.js';

/** The value a successful command of type `C` returns. */
export type CommandValue<C extends ContextCommand> = CommandValues[C['type']];

/** Archive position of one context, for the archiver and its metrics. */
export interface ArchiveState {
  id: string;
  archived_seq: number;
  last_seq: number;
  /** Messages held in memory (the retained tail). */
  retained: number;
}

/**
 * All contexts of one replication group. `apply` is the only way state
 * changes; it is a deterministic function of the state and the command, so
 * replicas that apply the same commands hold the same state and produce the
 * same snapshot bytes. Reads are served from memory and cost
 * O(window + output), never O(history).
 *
 * Objects returned by reads are shared with the state: treat them as
 * immutable.
 */
export class ContextGroup {
  private contexts: Contexts = new Map();
  /** Contexts with messages not yet archived, so the archiver's scan is O(pending). */
  private readonly unarchived = new Set<string>();
  /** Size of the last snapshot, to size the next one's buffer; not part of the state. */
  private snapshotBytesHint = 0;

  apply<C extends ContextCommand>(cmd: C): Applied<CommandValue<C>> {
    return this.applyAny(cmd) as Applied<CommandValue<C>>;
  }

  private applyAny(cmd: ContextCommand): Applied<CommandValues[keyof CommandValues]> {
    switch (cmd.type) {
      case 'put_context':
        return applyPutContext(this.contexts, cmd);
      case 'append': {
        const applied = applyAppend(this.contexts, cmd);
        if (applied.result.ok && !applied.result.value.replayed) this.trackArchive(cmd.id);
        return applied;
      }
      case 'compact':
        return applyCompact(this.contexts, cmd);
      case 'patch_metadata':
        return applyPatchMetadata(this.contexts, cmd);
      case 'tombstone':
        return applyTombstone(this.contexts, cmd);
      case 'ack_archived': {
        const applied = applyAckArchived(this.contexts, cmd);
        if (applied.result.ok) this.trackArchive(cmd.id);
        return applied;
      }
      default:
        return {
          result: {
            ok: false,
            error: { code: 'invalid_request', message: `unknown command type ${String(describeType(cmd))}` },
          },
          events: [],
        };
    }
  }

  has(id: string): boolean {
    return this.contexts.has(id);
  }

  get size(): number {
    return this.contexts.size;
  }

  /** Context ids in the order they were created. */
  contextIds(): IterableIterator<string> {
    return this.contexts.keys();
  }

  getContext(id: string): ContextView | undefined {
    const state = this.contexts.get(id);
    return state === undefined ? undefined : contextView(state);
  }

  /** Current version, for stream cursors; undefined for an unknown context. */
  version(id: string): number | undefined {
    return this.contexts.get(id)?.version;
  }

  window(id: string, options: WindowOptions = {}): WindowView | undefined {
    const state = this.contexts.get(id);
    if (state === undefined) return undefined;
    const budget = options.budget_tokens;
    assert(
      budget === undefined || (Number.isSafeInteger(budget) && budget >= 0),
      'budget_tokens is an integer',
    );
    return windowView(state, options);
  }

  /** Newest-first page (skip `offset` newest, return up to `limit`), oldest first. */
  tail(id: string, offset: number, limit: number): LogPage | undefined {
    assert(Number.isSafeInteger(offset) && offset >= 0, 'offset is a non-negative integer');
    assert(Number.isSafeInteger(limit) && limit >= 1, 'limit is a positive integer');
    const state = this.contexts.get(id);
    return state === undefined ? undefined : tailPage(state, offset, limit);
  }

  /** Forward page of messages with `seq > after_seq`. */
  messagesAfter(id: string, afterSeq: number, limit: number): MessagesSlice | undefined {
    assert(Number.isSafeInteger(afterSeq) && afterSeq >= 0, 'after_seq is a non-negative integer');
    assert(Number.isSafeInteger(limit) && limit >= 1, 'limit is a positive integer');
    const state = this.contexts.get(id);
    return state === undefined ? undefined : messagesAfter(state, afterSeq, limit);
  }

  /** Up to `limit` messages not yet archived (`seq > archived_seq`), oldest first. */
  unarchivedMessages(id: string, limit: number): Message[] {
    assert(Number.isSafeInteger(limit) && limit >= 0, 'limit is a non-negative integer');
    const state = this.contexts.get(id);
    if (state === undefined) return [];
    return state.log.range(state.archived_seq + 1, Math.min(state.log.last_seq, state.archived_seq + limit));
  }

  archiveState(id: string): ArchiveState | undefined {
    const state = this.contexts.get(id);
    if (state === undefined) return undefined;
    return { id, archived_seq: state.archived_seq, last_seq: state.log.last_seq, retained: state.log.count };
  }

  /**
   * Every context with messages newer than its `archived_seq`, without
   * sorting or copying, least recently caught up first: the archiver walks
   * this on every flush, where order only decides who goes first and sorting
   * every pending context would cost more than the batch it fills.
   */
  *pendingArchive(): IterableIterator<ArchiveState> {
    for (const id of this.unarchived) yield this.archiveState(id)!;
  }

  snapshot(): Uint8Array {
    return this.snapshotEncoder().step(Number.POSITIVE_INFINITY, () => 0)!;
  }

  /**
   * Captures the group's state now and encodes it as the encoder is stepped,
   * so a large group can be snapshotted while commands keep being applied.
   */
  snapshotEncoder(): SnapshotEncoder {
    const encoder = snapshotEncoder(this.contexts, this.snapshotBytesHint);
    return {
      step: (deadline, now) => {
        const bytes = encoder.step(deadline, now);
        if (bytes) this.snapshotBytesHint = bytes.length;
        return bytes;
      },
    };
  }

  /** Rebuilds a group from `snapshot()` bytes; throws `SnapshotError` on corrupt or unknown input. */
  static restore(bytes: Uint8Array): ContextGroup {
    const group = new ContextGroup();
    group.contexts = decodeSnapshot(bytes);
    group.snapshotBytesHint = bytes.length;
    for (const state of group.contexts.values()) {
      if (state.archived_seq < state.log.last_seq) group.unarchived.add(state.id);
    }
    return group;
  }

  private trackArchive(id: string): void {
    const state = this.contexts.get(id)!;
    if (state.archived_seq < state.log.last_seq) this.unarchived.add(id);
    else this.unarchived.delete(id);
  }
}

function describeType(cmd: never): unknown {
  return (cmd as { type?: unknown }).type;
}
