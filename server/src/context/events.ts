import type { Message } from '@fastpaca/contract';
import { type ContextState, needsCompaction } from './context-state.js';
import type { ContextEvent } from './results.js';
import type { SeqRange } from './segments.js';

/*
 * Every version bump emits one group of events, all carrying the new version:
 * `message` frames, then at most one `compaction`, then exactly one `context`
 * (a tombstone emits only `tombstoned`).
 */

export function messageEvent(state: ContextState, message: Message): ContextEvent {
  return {
    context_id: state.id,
    frame: { type: 'message', version: state.version, seq: message.seq, message },
  };
}

export function compactionEvent(state: ContextState, range: SeqRange): ContextEvent {
  return {
    context_id: state.id,
    frame: {
      type: 'compaction',
      version: state.version,
      range: { from_seq: range.from_seq, to_seq: range.to_seq },
    },
  };
}

export function contextEvent(state: ContextState): ContextEvent {
  return {
    context_id: state.id,
    frame: {
      type: 'context',
      version: state.version,
      used_tokens: state.used_tokens,
      needs_compaction: needsCompaction(state),
    },
  };
}

export function tombstonedEvent(state: ContextState): ContextEvent {
  return { context_id: state.id, frame: { type: 'tombstoned', version: state.version } };
}
