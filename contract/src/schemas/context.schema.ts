import { z } from 'zod';
import { limits } from '../limits.js';
import { ContextIdSchema, MetadataSchema, TimestampSchema, VersionSchema } from './common.schema.js';
import { PolicySchema } from './policy.schema.js';

export const TokenBudgetSchema = z
  .number({ required_error: 'token_budget is required' })
  .int('token_budget must be an integer')
  .positive('token_budget must be greater than 0')
  .max(limits.token_budget_max)
  .describe('Token budget of the LLM window.');

export const TriggerRatioSchema = z
  .number()
  .gt(0, 'trigger_ratio must be greater than 0')
  .lte(1, 'trigger_ratio must be at most 1')
  .describe('Compaction runs when `used_tokens > token_budget * trigger_ratio`.');

export const PutContextBodySchema = z
  .object({
    token_budget: TokenBudgetSchema,
    trigger_ratio: TriggerRatioSchema.optional().describe('Defaults to 0.7 on create; unchanged on update.'),
    policy: PolicySchema.optional().describe(
      'Defaults to `last_n` with limit 200 on create; unchanged on update.',
    ),
    metadata: MetadataSchema.optional().describe('Replaces the metadata when given; unchanged otherwise.'),
  })
  .strict()
  .describe('Create a context, or update its configuration.');

export type PutContextBody = z.input<typeof PutContextBodySchema>;

export const ContextStatusSchema = z.enum(['active', 'tombstoned']);
export type ContextStatus = z.infer<typeof ContextStatusSchema>;

export const ContextSchema = z
  .object({
    id: ContextIdSchema,
    token_budget: TokenBudgetSchema,
    trigger_ratio: TriggerRatioSchema,
    policy: PolicySchema,
    metadata: MetadataSchema,
    status: ContextStatusSchema,
    version: VersionSchema,
    last_seq: z.number().int().min(0).describe('Seq of the newest message (0 when empty).'),
    archived_seq: z.number().int().min(0).describe('Every message up to this seq is in the archive.'),
    created_at: TimestampSchema,
    updated_at: TimestampSchema,
  })
  .describe('A context: configuration, metadata and log position.');

export type Context = z.output<typeof ContextSchema>;

export const PatchMetadataBodySchema = z
  .object({
    metadata: MetadataSchema.describe(
      'Keys to set; a `null` value removes the key (shallow JSON merge patch).',
    ),
  })
  .strict()
  .describe('Merge-upsert metadata.');

export type PatchMetadataBody = z.infer<typeof PatchMetadataBodySchema>;
