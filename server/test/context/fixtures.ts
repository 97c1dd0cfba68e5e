import type { Part, PolicyInput } from '@fastpaca/contract';
import type {
  AppendCommand,
  CompactCommand,
  ContextGroup,
  PreparedMessage,
  PutContextCommand,
} from '../../src/context/index.js';

/** A message of `tokens` tokens with one text part, unless parts are given. */
export function msg(
  tokens: number,
  options: { role?: string; parts?: Part[]; part_tokens?: number[]; text?: string } = {},
): PreparedMessage {
  const message: PreparedMessage = {
    role: options.role ?? 'user',
    parts: options.parts ?? [{ type: 'text', text: options.text ?? `${tokens} tokens` }],
    metadata: {},
    token_count: tokens,
  };
  if (options.part_tokens !== undefined) message.part_tokens = options.part_tokens;
  return message;
}

export function put(
  id: string,
  config: {
    token_budget: number;
    trigger_ratio?: number;
    policy?: PolicyInput;
    metadata?: Record<string, unknown>;
  },
  at = 1_000,
): PutContextCommand {
  return { type: 'put_context', id, at, ...config };
}

export function append(
  id: string,
  messages: PreparedMessage[],
  extra: Partial<AppendCommand> = {},
): AppendCommand {
  return { type: 'append', id, at: 2_000, messages, ...extra };
}

export function compact(
  id: string,
  replacement: PreparedMessage[],
  extra: Partial<CompactCommand> = {},
): CompactCommand {
  return { type: 'compact', id, at: 3_000, replacement, ...extra };
}

/** Applies a command that must succeed and returns its value. */
export function must<T>(applied: {
  result: { ok: true; value: T } | { ok: false; error: { message: string } };
}): T {
  if (!applied.result.ok) throw new Error(`command failed: ${applied.result.error.message}`);
  return applied.result.value;
}

/** The window's message texts (or seqs) in order, for readable expectations. */
export function windowSeqs(group: ContextGroup, id: string): (number | null)[] {
  return group.window(id)!.messages.map((m) => m.seq);
}

/** The contexts waiting for the archive, by id (the group yields them in no fixed order). */
export function pendingById(group: ContextGroup) {
  return [...group.pendingArchive()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
