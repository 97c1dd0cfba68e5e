import { z } from 'zod';
import { limits } from '../limits.js';
import { queryInt, VersionSchema } from './common.schema.js';
import { WindowMessageSchema } from './message.schema.js';

export const WindowQuerySchema = z
  .object({
    budget_tokens: queryInt(
      z.number().int('budget_tokens must be an integer').positive().max(limits.token_budget_max),
    )
      .optional()
      .describe('Trim this response (oldest non-pinned first) to fit; stored state is unchanged.'),
    if_version: queryInt(VersionSchema).optional().describe('409 unless the context is at this version.'),
  })
  .strict();

export const SegmentSchema = z
  .object({
    type: z.enum(['summary', 'live']),
    from_seq: z.number().int().min(0),
    to_seq: z.number().int().min(0),
  })
  .describe('A run of the window: `summary` came from a compaction replacement, `live` from appends.');

export type Segment = z.infer<typeof SegmentSchema>;

export const WindowSchema = z
  .object({
    version: VersionSchema,
    messages: z.array(WindowMessageSchema),
    used_tokens: z.number().int().min(0),
    needs_compaction: z.boolean(),
    segments: z.array(SegmentSchema),
  })
  .describe('The LLM window: what the model should see.');

export type Window = z.infer<typeof WindowSchema>;
