import { limits } from '@fastpaca/contract';
import type { PreparedMessage } from './commands.js';
import { isPlainObject } from './json-equal.js';
import { engineLimits } from './limits.js';

/*
 * Commands are validated again when applied, because a malformed command in
 * the replicated log must fail the same way on every replica instead of
 * crashing them all. Each check returns a message naming the field, or null.
 */

export function checkContextId(id: unknown): string | null {
  if (typeof id !== 'string' || id.length === 0 || id.length > limits.context_id_length_max) {
    return `id must be 1–${limits.context_id_length_max} characters`;
  }
  return limits.context_id_pattern.test(id)
    ? null
    : 'id may only contain A-Z, a-z, 0-9, ".", "_", ":" and "-"';
}

export function checkAt(at: unknown): string | null {
  return isIntIn(at, 0, engineLimits.timestamp_ms_max) ? null : 'at must be epoch milliseconds';
}

export function checkVersionGuard(ifVersion: unknown): string | null {
  return ifVersion === undefined || ifVersion === null || isIntIn(ifVersion, 0, limits.version_max)
    ? null
    : 'if_version must be a non-negative integer';
}

export function checkPreparedMessages(
  messages: unknown,
  field: string,
  min: number,
  max: number,
): string | null {
  if (!Array.isArray(messages)) return `${field} must be an array`;
  if (messages.length < min || messages.length > max) return `${field} must hold ${min}–${max} messages`;
  for (let i = 0; i < messages.length; i++) {
    const problem = checkPreparedMessage(messages[i]);
    if (problem !== null) return `${field}[${i}].${problem}`;
  }
  return null;
}

function checkPreparedMessage(value: unknown): string | null {
  if (!isPlainObject(value)) return 'message must be an object';
  const message = value as Partial<PreparedMessage>;
  const { role, parts, metadata, token_count: tokenCount, part_tokens: partTokens } = message;
  if (typeof role !== 'string' || role.length === 0 || role.length > limits.role_length_max) {
    return `role must be 1–${limits.role_length_max} characters`;
  }
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > limits.parts_per_message_max) {
    return `parts must hold 1–${limits.parts_per_message_max} parts`;
  }
  for (const part of parts) {
    if (!isPlainObject(part) || typeof part.type !== 'string' || part.type.length === 0) {
      return 'parts must be objects with a non-empty string type';
    }
  }
  if (!isPlainObject(metadata)) return 'metadata must be an object';
  if (!isIntIn(tokenCount, 0, limits.token_count_max)) return 'token_count must be a non-negative integer';
  if (partTokens !== undefined && partTokens !== null) {
    if (!Array.isArray(partTokens) || partTokens.length !== parts.length) {
      return 'part_tokens must have one count per part';
    }
    if (!partTokens.every((n) => isIntIn(n, 0, limits.token_count_max))) {
      return 'part_tokens must be non-negative integers';
    }
  }
  return null;
}

export function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}
