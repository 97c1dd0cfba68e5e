import { z } from 'zod';
import { limits } from '../limits.js';
import { TimestampSchema } from './common.schema.js';

export const TokenRightSchema = z.enum(['read', 'append']);
export type TokenRight = z.infer<typeof TokenRightSchema>;

export const CreateTokenBodySchema = z
  .object({
    rights: z
      .array(TokenRightSchema)
      .min(1, 'rights must name at least one of "read", "append"')
      .max(2)
      .describe('`read`: GET routes and the stream; `append`: POST messages.'),
    ttl_seconds: z
      .number()
      .int('ttl_seconds must be an integer')
      .min(1)
      .max(limits.token_ttl_seconds_max)
      .optional()
      .describe('Lifetime in seconds (default 3600, at most 86400).'),
  })
  .strict()
  .describe('Issue a short-lived token scoped to one context, for browsers.');

export type CreateTokenBody = z.infer<typeof CreateTokenBodySchema>;

export const TokenResponseSchema = z.object({
  token: z.string().describe('Send as `Authorization: Bearer <token>`, `?token=` or websocket subprotocol.'),
  expires_at: TimestampSchema,
});

export type TokenResponse = z.infer<typeof TokenResponseSchema>;
