import { z } from 'zod';
import { limits } from '../limits.js';
import { queryInt } from './common.schema.js';
import { MessageSchema } from './message.schema.js';

const PageLimitSchema = z
  .number()
  .int('limit must be an integer')
  .min(1, 'limit must be at least 1')
  .max(limits.page_limit_max, `limit must be at most ${limits.page_limit_max}`);

export const TailQuerySchema = z
  .object({
    offset: queryInt(
      z.number().int('offset must be an integer').min(0, 'offset must be >= 0').max(limits.version_max),
    )
      .default(0)
      .describe('Number of newest messages to skip.'),
    limit: queryInt(PageLimitSchema).default(limits.page_limit_default).describe('Page size, 1–1000.'),
  })
  .strict();

export const TailResponseSchema = z
  .object({
    messages: z.array(MessageSchema).describe('Chronological order. Empty when the beginning is reached.'),
  })
  .describe('A newest-first page, returned oldest to newest.');

export type TailResponse = z.infer<typeof TailResponseSchema>;

export const MessagesQuerySchema = z
  .object({
    after_seq: queryInt(
      z.number().int('after_seq must be an integer').min(0, 'after_seq must be >= 0').max(limits.version_max),
    )
      .default(0)
      .describe('Return messages with `seq > after_seq`.'),
    limit: queryInt(PageLimitSchema).default(limits.page_limit_default).describe('Page size, 1–1000.'),
  })
  .strict();

export const MessagesPageSchema = z
  .object({
    messages: z.array(MessageSchema),
    next_after_seq: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe('Pass as `after_seq` for the next page; null when this page reached the newest message.'),
  })
  .describe('A forward page over the whole history (live tail and archive alike).');

export type MessagesPage = z.infer<typeof MessagesPageSchema>;
