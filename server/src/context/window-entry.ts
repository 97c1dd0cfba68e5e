import type { Message, Part, WindowMessage } from '@fastpaca/contract';
import type { PreparedMessage } from './commands.js';

/**
 * One message of the LLM window. Live entries share the log's message object
 * until a policy rewrites them, so a message in both the log and the window
 * is held once. Entries are never mutated: a change creates a new entry.
 */
export interface WindowEntry {
  /** `seq` is null for messages that came from a compaction replacement. */
  readonly message: WindowMessage;
  /** Per-part token counts aligned with `message.parts`, when the proposer supplied them. */
  readonly part_tokens: readonly number[] | null;
  /**
   * Tool call ids of the message as it was appended; messages sharing one are
   * trimmed together. A stripped copy keeps its original ids, so removing a
   * tool call's part never unlinks it from its result.
   */
  readonly tool_ids: readonly string[];
}

const no_tool_ids: readonly string[] = Object.freeze([]);

export function liveEntry(message: Message, partTokens: readonly number[] | null): WindowEntry {
  return { message, part_tokens: partTokens, tool_ids: toolCallIds(message.parts) };
}

export function summaryEntry(prepared: PreparedMessage, insertedAt: string): WindowEntry {
  return windowEntry(
    {
      seq: null,
      role: prepared.role,
      parts: prepared.parts,
      metadata: prepared.metadata,
      token_count: prepared.token_count,
      inserted_at: insertedAt,
    },
    prepared.part_tokens ?? null,
  );
}

export function windowEntry(
  message: WindowMessage,
  partTokens: readonly number[] | null,
  toolIds: readonly string[] = toolCallIds(message.parts),
): WindowEntry {
  return { message, part_tokens: partTokens, tool_ids: toolIds.length === 0 ? no_tool_ids : toolIds };
}

/**
 * ai-sdk parts carry `toolCallId`; OpenAI-style messages carry `tool_call_id`.
 * Either links a tool call to its result.
 */
export function toolCallIds(parts: readonly Part[]): readonly string[] {
  let ids: string[] | null = null;
  for (const part of parts) {
    const record = part as Record<string, unknown>;
    ids = addToolId(ids, record.toolCallId);
    ids = addToolId(ids, record.tool_call_id);
  }
  return ids ?? no_tool_ids;
}

function addToolId(ids: string[] | null, value: unknown): string[] | null {
  if (typeof value !== 'string' || value.length === 0) return ids;
  if (ids === null) return [value];
  if (!ids.includes(value)) ids.push(value);
  return ids;
}
