import { z } from 'zod';
import { limits } from '../limits.js';
import { boundedJson, MetadataSchema, SeqSchema, TimestampSchema } from './common.schema.js';

/**
 * A message part, compatible with ai-sdk v5 `UIMessage` parts: a string `type`
 * plus any other fields, which are stored and returned untouched.
 */
export const PartSchema = boundedJson(
  z
    .object({
      type: z
        .string({
          required_error: 'each part needs a string type',
          invalid_type_error: 'part type must be a string',
        })
        .min(1, 'part type must not be empty')
        .max(limits.part_type_length_max),
    })
    .passthrough(),
).describe('A message part: a string `type` plus any other fields (ai-sdk v5 UIMessage compatible).');

export type Part = z.infer<typeof PartSchema>;

export const RoleSchema = z
  .string({ required_error: 'role is required' })
  .min(1, 'role must not be empty')
  .max(limits.role_length_max)
  // Control characters have no business in a role, and Postgres text cannot hold U+0000.
  .regex(/^\P{Cc}*$/u, 'role must not contain control characters')
  .describe('Free text; commonly `system`, `user`, `assistant` or `tool`.');

export const PartsSchema = z
  .array(PartSchema, { required_error: 'parts is required' })
  .min(1, 'parts must be a non-empty array')
  .max(limits.parts_per_message_max);

export const TokenCountSchema = z.number().int('must be an integer').min(0).max(limits.token_count_max);

/**
 * A message as a client sends it. Unknown top-level fields (such as ai-sdk's
 * `id`) are ignored rather than rejected so UI messages can be sent as they are.
 */
export const MessageInputSchema = z
  .object({
    role: RoleSchema,
    parts: PartsSchema,
    metadata: MetadataSchema.optional(),
    token_count: TokenCountSchema.optional().describe(
      'Used verbatim when given; otherwise the server counts tokens with its estimator.',
    ),
  })
  .describe('A message to append or to use in a compaction replacement.');

export type MessageInput = z.infer<typeof MessageInputSchema>;

export const MessageSchema = z
  .object({
    seq: SeqSchema,
    role: RoleSchema,
    parts: z.array(PartSchema),
    metadata: MetadataSchema,
    token_count: TokenCountSchema,
    inserted_at: TimestampSchema,
  })
  .describe('A message of the log, as stored and returned.');

export type Message = z.infer<typeof MessageSchema>;

/**
 * A message of the LLM window. Appended messages keep their log `seq`;
 * messages that came from a compaction replacement have `seq: null`.
 */
export const WindowMessageSchema = MessageSchema.extend({
  seq: SeqSchema.nullable().describe('Log seq for live messages; null for compaction replacements.'),
}).describe('A message of the LLM window.');

export type WindowMessage = z.infer<typeof WindowMessageSchema>;
