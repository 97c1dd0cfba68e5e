import { z } from 'zod';
import { ErrorCodeSchema } from '../errors.js';
import {
  ContextPathParamsSchema,
  queryBool,
  queryInt,
  SeqSchema,
  VersionSchema,
} from '../schemas/common.schema.js';
import { MessageSchema } from '../schemas/message.schema.js';

/**
 * Websocket frames of `GET /v1/contexts/:id/stream`.
 *
 * Event frames (`message`, `compaction`, `context`, `tombstoned`, `reset`)
 * carry the context `version` that produced them. A version's frames arrive
 * together and in this order: `message`, then `compaction`, then exactly one
 * `context` (or `tombstoned`). Versions never go backwards on a connection, and
 * every version after the cursor is delivered exactly once.
 */
export const MessageFrameSchema = z
  .object({ type: z.literal('message'), version: VersionSchema, seq: SeqSchema, message: MessageSchema })
  .describe('One per appended message (only with `include_messages=true`).');

export const ContextFrameSchema = z
  .object({
    type: z.literal('context'),
    version: VersionSchema,
    used_tokens: z.number().int().min(0),
    needs_compaction: z.boolean(),
  })
  .describe('The window changed; the last frame of every version.');

export const CompactionFrameSchema = z
  .object({
    type: z.literal('compaction'),
    version: VersionSchema,
    range: z.object({ from_seq: z.number().int().min(0), to_seq: z.number().int().min(0) }),
  })
  .describe('After `/compact` or a policy trim: the log range that left the live window.');

export const TombstonedFrameSchema = z
  .object({ type: z.literal('tombstoned'), version: VersionSchema })
  .describe('The context was deleted; the server closes the socket next.');

export const ResetFrameSchema = z
  .object({ type: z.literal('reset'), version: VersionSchema })
  .describe('Discard caches and refetch; sent when the cursor is ahead of the server.');

export const GapFrameSchema = z
  .object({
    type: z.literal('gap'),
    version: VersionSchema.describe('Current version of the context.'),
    expected: z.number().int().min(0).describe('First version the client asked for (cursor + 1).'),
    actual: z.number().int().min(0).describe('Oldest version the server can still replay.'),
  })
  .describe(
    'The cursor is older than the replay buffer: fetch `/messages`, then reconnect with a newer cursor.',
  );

export const PingFrameSchema = z
  .object({ type: z.literal('ping'), version: VersionSchema.describe('Current version of the context.') })
  .describe('Heartbeat; answer with `{"type":"pong"}`.');

export const ErrorFrameSchema = z
  .object({
    type: z.literal('error'),
    version: VersionSchema.describe('Current version of the context, or 0 when unknown.'),
    error: ErrorCodeSchema,
    message: z.string(),
  })
  .describe('A request problem (bad cursor, unknown context); the server closes the socket next.');

export const StreamEventFrameSchema = z.discriminatedUnion('type', [
  MessageFrameSchema,
  CompactionFrameSchema,
  ContextFrameSchema,
  TombstonedFrameSchema,
  ResetFrameSchema,
]);

export const StreamServerFrameSchema = z
  .discriminatedUnion('type', [
    MessageFrameSchema,
    CompactionFrameSchema,
    ContextFrameSchema,
    TombstonedFrameSchema,
    ResetFrameSchema,
    GapFrameSchema,
    PingFrameSchema,
    ErrorFrameSchema,
  ])
  .describe('Every frame the server sends.');

export const PongFrameSchema = z.object({ type: z.literal('pong') }).describe('Answer to `ping`.');
export const StreamClientFrameSchema = z.discriminatedUnion('type', [PongFrameSchema]);

export type MessageFrame = z.infer<typeof MessageFrameSchema>;
export type ContextFrame = z.infer<typeof ContextFrameSchema>;
export type CompactionFrame = z.infer<typeof CompactionFrameSchema>;
export type TombstonedFrame = z.infer<typeof TombstonedFrameSchema>;
export type ResetFrame = z.infer<typeof ResetFrameSchema>;
export type GapFrame = z.infer<typeof GapFrameSchema>;
export type PingFrame = z.infer<typeof PingFrameSchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;
export type StreamEventFrame = z.infer<typeof StreamEventFrameSchema>;
export type StreamServerFrame = z.infer<typeof StreamServerFrameSchema>;
export type StreamClientFrame = z.infer<typeof StreamClientFrameSchema>;

export const StreamQuerySchema = z
  .object({
    cursor: queryInt(
      z.number().int('cursor must be an integer').min(0, 'cursor must be >= 0').max(Number.MAX_SAFE_INTEGER),
    )
      .optional()
      .describe('Replay every event with a version greater than this, then go live. Omit to start live.'),
    include_messages: queryBool().default(true).describe('Send `message` frames (default true).'),
    token: z.string().min(1).optional().describe('Scoped token, for clients that cannot set headers.'),
  })
  .strict();

export type StreamQuery = z.input<typeof StreamQuerySchema>;

/** Websocket close codes the server uses, each with one meaning. */
export const streamCloseCodes = {
  normal: 1000,
  going_away: 1001,
  invalid_request: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  not_found: 4404,
  heartbeat_timeout: 4408,
  gap: 4409,
  slow_consumer: 4413,
  unavailable: 4503,
} as const;

export type StreamCloseReason = keyof typeof streamCloseCodes;

/** Subprotocol prefix for passing a scoped token: `Sec-WebSocket-Protocol: fastpaca.token.<token>`. */
export const streamTokenSubprotocolPrefix = 'fastpaca.token.';

/** The stream route; not part of the ts-rest router because it is a websocket upgrade. */
export const streamRoute = {
  method: 'GET',
  path: '/v1/contexts/:id/stream',
  pathParams: ContextPathParamsSchema,
  query: StreamQuerySchema,
  summary: 'Subscribe to live events (websocket)',
} as const;
