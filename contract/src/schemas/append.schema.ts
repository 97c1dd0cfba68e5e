import { z } from 'zod';
import { limits } from '../limits.js';
import { SeqSchema, VersionSchema } from './common.schema.js';
import { MessageInputSchema } from './message.schema.js';

export const IdempotencyKeySchema = z
  .string()
  .min(1, 'idempotency key must not be empty')
  .max(limits.idempotency_key_length_max)
  .regex(limits.idempotency_key_pattern, 'idempotency key must be printable ASCII without spaces')
  .describe('Makes retries safe: a repeated key returns the original result instead of appending twice.');

export const AppendHeadersSchema = z.object({
  'idempotency-key': IdempotencyKeySchema.optional(),
});

export const AppendBodySchema = z
  .object({
    message: MessageInputSchema,
    if_version: VersionSchema.optional().describe(
      'Append only if the context is at this version (else 409).',
    ),
    idempotency_key: IdempotencyKeySchema.optional().describe('Same as the `Idempotency-Key` header.'),
  })
  .strict()
  .describe('Append one message to the log and the LLM window.');

export type AppendBody = z.input<typeof AppendBodySchema>;

export const AppendResultSchema = z
  .object({
    seq: SeqSchema,
    version: VersionSchema,
    token_estimate: z.number().int().min(0).describe('Token count recorded for the message.'),
  })
  .describe('Where the message landed.');

export type AppendResult = z.infer<typeof AppendResultSchema>;
