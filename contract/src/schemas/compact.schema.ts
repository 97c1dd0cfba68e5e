import { z } from 'zod';
import { limits } from '../limits.js';
import { VersionSchema } from './common.schema.js';
import { MessageInputSchema } from './message.schema.js';

export const CompactBodySchema = z
  .object({
    replacement: z
      .array(MessageInputSchema, { required_error: 'replacement is required' })
      .max(limits.replacement_messages_max)
      .describe('The new LLM window, typically a summary followed by recent messages.'),
    if_version: VersionSchema.optional().describe(
      'Compact only if the context is at this version (else 409).',
    ),
  })
  .strict()
  .describe('Atomically replace the whole LLM window. The message log is untouched.');

export type CompactBody = z.input<typeof CompactBodySchema>;

export const CompactResultSchema = z.object({ version: VersionSchema });
export type CompactResult = z.infer<typeof CompactResultSchema>;
