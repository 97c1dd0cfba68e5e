import { assert } from './assert.js';
import { type WindowEntry, windowEntry } from './window-entry.js';

/**
 * Removes the parts whose `type` starts with one of `prefixes` from a window
 * entry. Returns the entry itself when nothing matched and null when no part
 * is left. The log's message is never touched: a stripped entry is a new
 * object. Counts come from `part_tokens`; without them the count is scaled by
 * the share of parts kept, because apply must never tokenize.
 */
export function stripParts(entry: WindowEntry, prefixes: readonly string[]): WindowEntry | null {
  const { message, part_tokens: partTokens } = entry;
  const keep: number[] = [];
  for (let i = 0; i < message.parts.length; i++) {
    const type = message.parts[i]!.type;
    if (!prefixes.some((prefix) => type.startsWith(prefix))) keep.push(i);
  }
  if (keep.length === message.parts.length) return entry;
  if (keep.length === 0) return null;
  let tokenCount: number;
  let keptTokens: number[] | null = null;
  if (partTokens !== null) {
    assert(partTokens.length === message.parts.length, 'part_tokens must align with parts');
    keptTokens = keep.map((i) => partTokens[i]!);
    tokenCount = keptTokens.reduce((sum, n) => sum + n, 0);
  } else {
    tokenCount = Math.floor((message.token_count * keep.length) / message.parts.length);
  }
  return windowEntry(
    {
      seq: message.seq,
      role: message.role,
      parts: keep.map((i) => message.parts[i]!),
      metadata: message.metadata,
      token_count: tokenCount,
      inserted_at: message.inserted_at,
    },
    keptTokens,
    entry.tool_ids,
  );
}
