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
    message: MessageInputSchema.optional().describe('One message (or send `messages`).'),
    messages: z
      .array(MessageInputSchema)
      .min(1, 'messages must hold at least one message')
      .max(limits.turn_messages_max, `messages may hold at most ${limits.turn_messages_max} messages`)
      .optional()
      .describe(
        'An atomic turn (an assistant tool call and its results, say): one version, all or nothing. ' +
          'The request body limit bounds its bytes.',
      ),
    if_version: VersionSchema.optional().describe(
      'Append only if the context is at this version (else 409).',
    ),
    idempotency_key: IdempotencyKeySchema.optional().describe('Same as the `Idempotency-Key` header.'),
  })
  .strict()
  .refine((body) => (body.message === undefined) !== (body.messages === undefined), {
    message: 'send either message or messages, not both and not neither',
  })
  .describe('Append one message, or several as one atomic turn, to the log and the LLM window.');

export type AppendBody = z.input<typeof AppendBodySchema>;

export const AppendResultSchema = z
  .object({
    first_seq: SeqSchema.optional().describe(
      'With `messages`: the seq of the first one (`seq` is the last).',
    ),
    seq: SeqSchema,
    version: VersionSchema,
    token_estimate: z.number().int().min(0).describe('Token count recorded for the message.'),
  })
  .describe('Where the message (or the turn) landed.');

export type AppendResult = z.infer<typeof AppendResultSchema>;
