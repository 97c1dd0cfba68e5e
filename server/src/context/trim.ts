import { pinnedCount, toolIndex, unitEnd } from './units.js';
import type { EntryList } from './window-buffer.js';

/** `entries[from, to)` are the messages to drop; `used_tokens` is what remains. */
export interface TrimPlan {
  from: number;
  to: number;
  used_tokens: number;
}

/**
 * Plans the `last_n` trim: drop the oldest non-pinned units until at most
 * `limit` non-pinned messages remain and the window holds at most
 * `threshold_tokens`. Pinned leading system messages and the newest unit are
 * never dropped, so the result can stay above the threshold only when those
 * alone exceed it. Units are found lazily, so the cost is O(dropped) plus one
 * pass over the window's tool ids.
 */
export function planTrim(
  entries: EntryList,
  usedTokens: number,
  limit: number,
  thresholdTokens: number,
  toolEntries = Number.POSITIVE_INFINITY,
): TrimPlan {
  const pinned = pinnedCount(entries);
  let to = pinned;
  let used = usedTokens;
  if (entries.length - pinned <= limit && used <= thresholdTokens)
    return { from: pinned, to, used_tokens: used };
  const index = toolIndex(entries, pinned, toolEntries);
  while (to < entries.length && (entries.length - to > limit || used > thresholdTokens)) {
    const end = unitEnd(entries, to, index);
    if (end >= entries.length) break; // the newest unit stays
    for (let i = to; i < end; i++) used -= entries.at(i)!.message.token_count;
    to = end;
  }
  return { from: pinned, to, used_tokens: used };
}
