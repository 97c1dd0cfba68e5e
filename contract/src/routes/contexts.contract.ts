import { initContract } from '@ts-rest/core';
import { ErrorBodySchema } from '../errors.js';
import { AppendBodySchema, AppendHeadersSchema, AppendResultSchema } from '../schemas/append.schema.js';
import { ContextPathParamsSchema } from '../schemas/common.schema.js';
import { CompactBodySchema, CompactResultSchema } from '../schemas/compact.schema.js';
import { ContextSchema, PatchMetadataBodySchema, PutContextBodySchema } from '../schemas/context.schema.js';
import {
  MessagesPageSchema,
  MessagesQuerySchema,
  TailQuerySchema,
  TailResponseSchema,
} from '../schemas/pagination.schema.js';
import { CreateTokenBodySchema, TokenResponseSchema } from '../schemas/token.schema.js';
import { WindowQuerySchema, WindowSchema } from '../schemas/window.schema.js';

const c = initContract();

/** Errors every `/v1` route can return. */
const commonErrors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  413: ErrorBodySchema,
  429: ErrorBodySchema,
  500: ErrorBodySchema,
  503: ErrorBodySchema,
} as const;

export const contextsContract = c.router(
  {
    putContext: {
      method: 'PUT',
      path: '/v1/contexts/:id',
      pathParams: ContextPathParamsSchema,
      body: PutContextBodySchema,
      responses: { 200: ContextSchema, 409: ErrorBodySchema, ...commonErrors },
      summary: 'Create or update a context',
      description:
        'Creates the context, or updates its budget, trigger ratio, policy and metadata. Idempotent: sending the same ' +
        'configuration again changes nothing. A new policy applies from the next compaction on. 409 when the context ' +
        'is tombstoned.',
    },
    getContext: {
      method: 'GET',
      path: '/v1/contexts/:id',
      pathParams: ContextPathParamsSchema,
      responses: { 200: ContextSchema, 404: ErrorBodySchema, ...commonErrors },
      summary: 'Get a context',
      description: 'Configuration, metadata, `version`, `last_seq`, `archived_seq` and `status`.',
    },
    deleteContext: {
      method: 'DELETE',
      path: '/v1/contexts/:id',
      pathParams: ContextPathParamsSchema,
      body: c.noBody(),
      responses: { 204: c.noBody(), 404: ErrorBodySchema, ...commonErrors },
      summary: 'Tombstone a context',
      description:
        'Later appends get 409; history stays readable; stream subscribers receive `tombstoned` and are ' +
        'disconnected. Deleting a tombstoned context again is a no-op.',
    },
    patchMetadata: {
      method: 'PATCH',
      path: '/v1/contexts/:id/metadata',
      pathParams: ContextPathParamsSchema,
      body: PatchMetadataBodySchema,
      responses: { 200: ContextSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, ...commonErrors },
      summary: 'Merge metadata',
      description:
        'Shallow merge: given keys are set, keys with a `null` value are removed. Returns the context.',
    },
    appendMessage: {
      method: 'POST',
      path: '/v1/contexts/:id/messages',
      pathParams: ContextPathParamsSchema,
      headers: AppendHeadersSchema,
      body: AppendBodySchema,
      responses: {
        201: AppendResultSchema,
        200: AppendResultSchema,
        404: ErrorBodySchema,
        409: ErrorBodySchema,
        ...commonErrors,
      },
      summary: 'Append a message',
      description:
        'Appends to the log and the LLM window once a quorum has the entry on disk. 201 with the new `seq`. With an ' +
        '`Idempotency-Key` header (or `idempotency_key`) a retry returns the original result with 200 instead of ' +
        'appending twice. 409 when `if_version` is not the current version or the context is tombstoned.',
    },
    getTail: {
      method: 'GET',
      path: '/v1/contexts/:id/tail',
      pathParams: ContextPathParamsSchema,
      query: TailQuerySchema,
      responses: { 200: TailResponseSchema, 404: ErrorBodySchema, ...commonErrors },
      summary: 'Page backwards from the newest message',
      description:
        'Skips the `offset` newest messages and returns up to `limit` more, in chronological order. An empty page ' +
        'means the beginning was reached.',
    },
    listMessages: {
      method: 'GET',
      path: '/v1/contexts/:id/messages',
      pathParams: ContextPathParamsSchema,
      query: MessagesQuerySchema,
      responses: { 200: MessagesPageSchema, 404: ErrorBodySchema, ...commonErrors },
      summary: 'Page forwards through the whole history',
      description:
        'Messages with `seq > after_seq`, oldest first, from the live tail and the archive alike. For export and ' +
        'replay.',
    },
    getWindow: {
      method: 'GET',
      path: '/v1/contexts/:id/context',
      pathParams: ContextPathParamsSchema,
      query: WindowQuerySchema,
      responses: { 200: WindowSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, ...commonErrors },
      summary: 'Get the LLM window',
      description:
        'The messages to send to the model, with `used_tokens`, `needs_compaction` and `segments`. `budget_tokens` ' +
        'trims this response (oldest non-pinned first) without changing stored state. 409 on `if_version` mismatch.',
    },
    compact: {
      method: 'POST',
      path: '/v1/contexts/:id/compact',
      pathParams: ContextPathParamsSchema,
      body: CompactBodySchema,
      responses: { 200: CompactResultSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, ...commonErrors },
      summary: 'Replace the LLM window',
      description:
        'Atomically replaces the whole window with `replacement` (e.g. a summary plus recent messages). The log is ' +
        'untouched. 409 on `if_version` mismatch or when tombstoned.',
    },
    createToken: {
      method: 'POST',
      path: '/v1/contexts/:id/tokens',
      pathParams: ContextPathParamsSchema,
      body: CreateTokenBodySchema,
      responses: { 201: TokenResponseSchema, 404: ErrorBodySchema, ...commonErrors },
      summary: 'Issue a scoped token',
      description:
        'A short-lived signed token for one context and the given rights (`read`, `append`), for browsers. Requires ' +
        'the API key. Tokens open nothing but their context.',
    },
  },
  { strictStatusCodes: true },
);

export type ContextsContract = typeof contextsContract;
