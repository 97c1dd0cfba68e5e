import type { Context, StreamEventFrame } from '@fastpaca/contract';

/** The error codes a command can fail with; each maps to one HTTP status in the contract. */
export type CommandErrorCode = 'not_found' | 'conflict' | 'invalid_request';

export interface VersionMismatch {
  expected: number;
  found: number;
}

export interface CommandError {
  code: CommandErrorCode;
  message: string;
  details?: VersionMismatch;
}

/** Operating errors are values: a failed command changes nothing and emits nothing. */
export type CommandResult<T> = { ok: true; value: T } | { ok: false; error: CommandError };

/** The wire `Context` shape. */
export type ContextView = Context;

export interface AppendValue {
  /** Seq of the first message appended by the command. */
  first_seq: number;
  /** Seq of the last message appended by the command. */
  seq: number;
  version: number;
  /** Sum of the token counts of the appended messages. */
  token_estimate: number;
  /** True when the idempotency key was seen before and this is the original result. */
  replayed: boolean;
}

export interface VersionValue {
  version: number;
}

export interface AckArchivedValue {
  archived_seq: number;
  /** Number of messages dropped from the retained tail by this command. */
  trimmed: number;
}

/** What each command type returns on success. */
export interface CommandValues {
  put_context: ContextView;
  append: AppendValue;
  compact: VersionValue;
  patch_metadata: ContextView;
  tombstone: VersionValue;
  ack_archived: AckArchivedValue;
}

/** A stream frame plus the context it belongs to, so a hub can route it. */
export interface ContextEvent {
  context_id: string;
  frame: StreamEventFrame;
}

export interface Applied<T> {
  result: CommandResult<T>;
  /** The frames of the version this command produced, in delivery order; empty when nothing changed. */
  events: ContextEvent[];
}

export function ok<T>(value: T): CommandResult<T> {
  return { ok: true, value };
}

export function fail<T>(
  code: CommandErrorCode,
  message: string,
  details?: VersionMismatch,
): CommandResult<T> {
  return details === undefined
    ? { ok: false, error: { code, message } }
    : { ok: false, error: { code, message, details } };
}

export function versionMismatch<T>(expected: number, found: number): CommandResult<T> {
  return fail('conflict', `version mismatch: expected ${expected}, found ${found}`, { expected, found });
}
