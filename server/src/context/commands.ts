import type { Part, PolicyInput } from '@fastpaca/contract';

/**
 * A message ready to enter the replicated log: everything that needs the
 * token estimator was computed by the proposer, so applying it never
 * tokenizes.
 */
export interface PreparedMessage {
  role: string;
  parts: Part[];
  metadata: Record<string, unknown>;
  /** Final count for the whole message (client-supplied or estimated). */
  token_count: number;
  /**
   * Per-part counts, aligned with `parts`. `skip_parts` uses them to price a
   * stripped message; without them it scales `token_count` by the share of
   * parts kept.
   */
  part_tokens?: number[];
}

/**
 * Commands are plain data so they can travel through the replicated log as
 * msgpack. `at` is the proposer's clock in epoch milliseconds: replicas never
 * read their own clock.
 */
export interface PutContextCommand {
  type: 'put_context';
  id: string;
  at: number;
  token_budget: number;
  trigger_ratio?: number;
  policy?: PolicyInput;
  metadata?: Record<string, unknown>;
}

export interface AppendCommand {
  type: 'append';
  id: string;
  at: number;
  messages: PreparedMessage[];
  if_version?: number;
  idempotency_key?: string;
}

export interface CompactCommand {
  type: 'compact';
  id: string;
  at: number;
  replacement: PreparedMessage[];
  if_version?: number;
}

/** Shallow merge patch: a `null` value deletes the key. */
export interface PatchMetadataCommand {
  type: 'patch_metadata';
  id: string;
  at: number;
  metadata: Record<string, unknown>;
}

export interface TombstoneCommand {
  type: 'tombstone';
  id: string;
  at: number;
}

/**
 * Proposed by the archiving leader after a flush. `tail_keep` travels in the
 * command so every replica trims the same way even if their configurations
 * differ.
 */
export interface AckArchivedCommand {
  type: 'ack_archived';
  id: string;
  upto_seq: number;
  tail_keep: number;
}

export type ContextCommand =
  | PutContextCommand
  | AppendCommand
  | CompactCommand
  | PatchMetadataCommand
  | TombstoneCommand
  | AckArchivedCommand;

export type ContextCommandType = ContextCommand['type'];
