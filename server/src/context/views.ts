import type { Message, Window, WindowMessage } from '@fastpaca/contract';
import { type ContextState, needsCompaction } from './context-state.js';
import { type SeqRange, segmentsOf } from './segments.js';
import { planTrim } from './trim.js';
import type { EntryList } from './window-buffer.js';
import type { WindowEntry } from './window-entry.js';

/** The wire `Window` shape. */
export type WindowView = Window;

export interface WindowOptions {
  /** Trim the returned copy to fit this many tokens; stored state is unchanged. */
  budget_tokens?: number;
}

/**
 * One page of the log. Seqs are dense, so a page is the seq range
 * `archived_range` (when present) followed by `messages`: the part of the page
 * below the retained tail has to be read from the archive.
 */
export interface LogPage {
  /** Retained messages of the page, oldest first. */
  messages: Message[];
  /** The part of the page below the retained tail, or null when the tail covers it. */
  archived_range: SeqRange | null;
  /** Seq of the oldest retained message (`last_seq + 1` when none is retained). */
  first_retained_seq: number;
  last_seq: number;
}

/** A forward page: `GET /messages` semantics. */
export interface MessagesSlice extends LogPage {
  /** Pass as `after_seq` for the next page; null when the page reaches the newest message. */
  next_after_seq: number | null;
}

/**
 * The window as the model should see it. With `budget_tokens` a copy is
 * trimmed like `last_n` (oldest non-pinned units first, never the newest unit,
 * tool pairs together) and `used_tokens`/`segments` describe the copy;
 * `needs_compaction` stays the stored context's flag.
 */
export function windowView(state: ContextState, options: WindowOptions): WindowView {
  const window = state.window;
  let entries: EntryList = window;
  let used = state.used_tokens;
  const budget = options.budget_tokens;
  if (budget !== undefined && used > budget) {
    const plan = planTrim(window, used, Number.POSITIVE_INFINITY, budget, window.tool_entries);
    const kept: WindowEntry[] = [];
    for (let i = 0; i < plan.from; i++) kept.push(window.at(i)!);
    for (let i = plan.to; i < window.length; i++) kept.push(window.at(i)!);
    entries = kept;
    used = plan.used_tokens;
  }
  const messages: WindowMessage[] = [];
  for (let i = 0; i < entries.length; i++) messages.push(entries.at(i)!.message);
  return {
    version: state.version,
    messages,
    used_tokens: used,
    needs_compaction: needsCompaction(state),
    segments: segmentsOf(entries, state.summary_range),
  };
}

/** Newest-first paging: skip `offset` newest messages, return up to `limit`, oldest first. */
export function tailPage(state: ContextState, offset: number, limit: number): LogPage {
  const last = state.log.last_seq;
  const to = last - offset;
  const from = Math.max(1, to - limit + 1);
  return pageOf(state, from, to);
}

/** Forward paging: messages with `seq > after_seq`, up to `limit`. */
export function messagesAfter(state: ContextState, afterSeq: number, limit: number): MessagesSlice {
  const last = state.log.last_seq;
  const from = afterSeq + 1;
  const to = Math.min(last, afterSeq + limit);
  const page = pageOf(state, from, to);
  return { ...page, next_after_seq: from <= to && to < last ? to : null };
}

function pageOf(state: ContextState, from: number, to: number): LogPage {
  const { log } = state;
  const firstRetained = log.first_seq;
  if (from > to)
    return { messages: [], archived_range: null, first_retained_seq: firstRetained, last_seq: log.last_seq };
  const archivedTo = Math.min(to, firstRetained - 1);
  return {
    messages: log.range(from, to),
    archived_range: from <= archivedTo ? { from_seq: from, to_seq: archivedTo } : null,
    first_retained_seq: firstRetained,
    last_seq: log.last_seq,
  };
}
