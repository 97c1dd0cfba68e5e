import type { EntryList } from './window-buffer.js';

/** Leading system messages are pinned and never trimmed. */
export function pinnedCount(entries: EntryList): number {
  let count = 0;
  while (count < entries.length && entries.at(count)!.message.role === 'system') count++;
  return count;
}

/**
 * Trimming units: a cut between two messages is allowed only when no tool
 * call id appears on both sides of it, so a call and its result (and
 * anything between them) are always kept or dropped together. Without tool
 * ids every message is its own unit.
 *
 * `ToolIndex` maps each id to the last index it appears at in the window, and
 * is null when no message from `from` on carries an id (the common case, in
 * which units cost nothing to find). Callers that know how many entries carry
 * ids pass `toolEntries` so a window without any is not scanned.
 */
export type ToolIndex = Map<string, number> | null;

export function toolIndex(
  entries: EntryList,
  from: number,
  toolEntries = Number.POSITIVE_INFINITY,
): ToolIndex {
  if (toolEntries === 0) return null;
  let index: ToolIndex = null;
  for (let i = from; i < entries.length; i++) {
    const ids = entries.at(i)!.tool_ids;
    for (let k = 0; k < ids.length; k++) {
      index ??= new Map();
      index.set(ids[k]!, i);
    }
  }
  return index;
}

/** Exclusive end of the unit that starts at `start`. */
export function unitEnd(entries: EntryList, start: number, index: ToolIndex): number {
  if (index === null) return start + 1;
  let reach = start;
  let i = start;
  for (; i <= reach; i++) {
    const ids = entries.at(i)!.tool_ids;
    for (let k = 0; k < ids.length; k++) reach = Math.max(reach, index.get(ids[k]!) ?? i);
  }
  return i;
}
