import { z } from 'zod';
import { limits } from '../limits.js';

const PolicyLimitSchema = z
  .number()
  .int('limit must be an integer')
  .min(1)
  .max(limits.policy_limit_max)
  .describe('Maximum number of messages kept in the window.');

export const LastNPolicySchema = z
  .object({
    strategy: z.literal('last_n'),
    config: z
      .object({ limit: PolicyLimitSchema.default(limits.policy_limit_default) })
      .strict()
      .default({}),
  })
  .strict()
  .describe('Keep the newest `limit` messages and drop oldest until under the trigger threshold.');

export const SkipPartsPolicySchema = z
  .object({
    strategy: z.literal('skip_parts'),
    config: z
      .object({
        skip_kinds: z
          .array(z.string().min(1).max(limits.part_type_length_max))
          .max(limits.skip_kinds_max)
          .default(['reasoning', 'tool'])
          .describe('Parts whose `type` starts with one of these prefixes are removed.'),
        limit: PolicyLimitSchema.default(limits.policy_limit_default),
      })
      .strict()
      .default({}),
  })
  .strict()
  .describe('Strip parts by type prefix, then apply `last_n`.');

export const ManualPolicySchema = z
  .object({
    strategy: z.literal('manual'),
    config: z.object({}).strict().default({}),
  })
  .strict()
  .describe('Never trims; `needs_compaction` flips and the client calls `/compact`.');

export const PolicySchema = z
  .discriminatedUnion('strategy', [LastNPolicySchema, SkipPartsPolicySchema, ManualPolicySchema], {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union_discriminator'
        ? { message: 'policy.strategy must be one of "last_n", "skip_parts", "manual"' }
        : { message: ctx.defaultError },
  })
  .describe('Compaction policy. Changing it applies from the next compaction on.');

/** The policy as the client sends it (config and its fields may be omitted). */
export type PolicyInput = z.input<typeof PolicySchema>;
/** The policy with every default filled in, as stored and returned. */
export type Policy = z.output<typeof PolicySchema>;

export const defaultPolicy: Policy = { strategy: 'last_n', config: { limit: limits.policy_limit_default } };
