import type { Policy } from '@fastpaca/contract';
import { stripParts } from './skip-parts.js';
import { planTrim } from './trim.js';
import { pinnedCount, toolIndex, unitEnd } from './units.js';
import { WindowBuffer } from './window-buffer.js';
import type { WindowEntry } from './window-entry.js';

export interface PolicyOutcome {
  /** The window after the policy ran (the same buffer unless parts were stripped). */
  window: WindowBuffer;
  used_tokens: number;
  /** Entries that left the window, in no particular order. */
  dropped: WindowEntry[];
}

/**
 * Runs the context's policy over its window after an append pushed it over
 * the trigger. The log is never touched.
 */
export function runPolicy(
  window: WindowBuffer,
  usedTokens: number,
  policy: Policy,
  thresholdTokens: number,
): PolicyOutcome {
  switch (policy.strategy) {
    case 'manual':
      return { window, used_tokens: usedTokens, dropped: [] };
    case 'last_n':
      return lastN(window, usedTokens, policy.config.limit, thresholdTokens, []);
    case 'skip_parts': {
      const dropped: WindowEntry[] = [];
      const stripped = skipParts(window, usedTokens, policy.config.skip_kinds, dropped);
      return lastN(stripped.window, stripped.used_tokens, policy.config.limit, thresholdTokens, dropped);
    }
  }
}

function lastN(
  window: WindowBuffer,
  usedTokens: number,
  limit: number,
  thresholdTokens: number,
  dropped: WindowEntry[],
): PolicyOutcome {
  const plan = planTrim(window, usedTokens, limit, thresholdTokens, window.tool_entries);
  if (plan.to > plan.from) for (const entry of window.removeRange(plan.from, plan.to)) dropped.push(entry);
  return { window, used_tokens: plan.used_tokens, dropped };
}

/**
 * Strips the skipped part kinds from every non-pinned message except the
 * newest unit: the model has to see the tool result it just asked for, and
 * the newest unit is the one thing a policy never removes. A message left
 * without parts is dropped together with its whole unit, so stripping never
 * separates a tool call from its result either. Visits the whole window, and
 * returns the same buffer when nothing changed.
 */
function skipParts(
  window: WindowBuffer,
  usedTokens: number,
  prefixes: readonly string[],
  dropped: WindowEntry[],
): { window: WindowBuffer; used_tokens: number } {
  if (prefixes.length === 0) return { window, used_tokens: usedTokens };
  const pinned = pinnedCount(window);
  const index = toolIndex(window, pinned, window.tool_entries);
  const kept: WindowEntry[] = [];
  for (let i = 0; i < pinned; i++) kept.push(window.at(i)!);
  let used = usedTokens;
  let changed = false;
  let start = pinned;
  const stripped: (WindowEntry | null)[] = [];
  while (start < window.length) {
    const end = unitEnd(window, start, index);
    if (end >= window.length) break; // the newest unit is left intact
    stripped.length = 0;
    let emptied = false;
    for (let i = start; i < end; i++) {
      const result = stripParts(window.at(i)!, prefixes);
      emptied ||= result === null;
      stripped.push(result);
    }
    for (let i = start; i < end; i++) {
      const entry = window.at(i)!;
      const result = stripped[i - start]!;
      if (emptied) {
        used -= entry.message.token_count;
        dropped.push(entry);
        changed = true;
      } else {
        used += result.message.token_count - entry.message.token_count;
        changed ||= result !== entry;
        kept.push(result);
      }
    }
    start = end;
  }
  if (!changed) return { window, used_tokens: usedTokens };
  for (let i = start; i < window.length; i++) kept.push(window.at(i)!);
  return { window: WindowBuffer.of(kept), used_tokens: used };
}
