import type { Message, Part, WindowMessage } from '@fastpaca/contract';
import type { ContextGroup, PreparedMessage } from '../../src/context/index.js';

/*
 * A deliberately naive re-statement of the window rules, used to check the
 * engine's results: quadratic, obvious, and independent of its code.
 */

export function toolIdsOfParts(parts: readonly Part[]): Set<string> {
  const ids = new Set<string>();
  for (const part of parts) {
    for (const key of ['toolCallId', 'tool_call_id']) {
      const value = (part as Record<string, unknown>)[key];
      if (typeof value === 'string' && value !== '') ids.add(value);
    }
  }
  return ids;
}

export function pinnedOf(messages: readonly WindowMessage[]): number {
  let n = 0;
  while (n < messages.length && messages[n]!.role === 'system') n++;
  return n;
}

/** Number of trimming units among `messages[from..]`, given each message's tool ids. */
export function unitCount(idSets: readonly Set<string>[], from: number): number {
  let units = 0;
  for (let k = from; k < idSets.length; k++) {
    const left = new Set<string>();
    for (let i = from; i <= k; i++) for (const id of idSets[i]!) left.add(id);
    let shared = false;
    for (let j = k + 1; j < idSets.length && !shared; j++)
      for (const id of idSets[j]!) shared ||= left.has(id);
    if (!shared) units++;
  }
  return units;
}

export function intersects(a: Set<string>, b: Set<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/** Every message ever appended per context, as appended (deep copies). */
export class LogModel {
  private readonly logs = new Map<string, PreparedMessage[]>();

  appended(id: string, messages: readonly PreparedMessage[]): void {
    const log = this.logs.get(id) ?? [];
    for (const m of messages) log.push(structuredClone(m));
    this.logs.set(id, log);
  }

  message(id: string, seq: number): PreparedMessage {
    return this.logs.get(id)![seq - 1]!;
  }

  /** Tool ids a window message had when it entered the log (summaries carry none in these tests). */
  originalToolIds(id: string, message: WindowMessage): Set<string> {
    return message.seq === null ? new Set() : toolIdsOfParts(this.message(id, message.seq).parts);
  }

  count(id: string): number {
    return this.logs.get(id)?.length ?? 0;
  }
}

/** All retained messages by walking `tail` pages; also returns the archived ranges reported. */
export function walkTail(group: ContextGroup, id: string, limit: number) {
  const pages: Message[][] = [];
  const archived: { from_seq: number; to_seq: number }[] = [];
  let offset = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = group.tail(id, offset, limit)!;
    if (page.messages.length === 0 && page.archived_range === null) break;
    pages.push(page.messages);
    if (page.archived_range !== null) archived.push(page.archived_range);
    offset += limit;
  }
  return { messages: pages.reverse().flat(), archived: archived.reverse() };
}
