import type { ErrorBody } from './errors.js';
import type { AppendBody, AppendResult } from './schemas/append.schema.js';
import type { ClusterView, DrainResponse } from './schemas/cluster.schema.js';
import type { CompactBody, CompactResult } from './schemas/compact.schema.js';
import type { Context, PatchMetadataBody, PutContextBody } from './schemas/context.schema.js';
import type { Message } from './schemas/message.schema.js';
import type { MessagesPage, TailResponse } from './schemas/pagination.schema.js';
import type { CreateTokenBody, TokenResponse } from './schemas/token.schema.js';
import type { Window } from './schemas/window.schema.js';
import type { StreamServerFrame } from './stream/frames.js';

/**
 * Worked examples from the specification. They appear in the OpenAPI document
 * and the contract tests check that every one of them passes its schema.
 */
const userMessage: Message = {
  seq: 41,
  role: 'user',
  parts: [{ type: 'text', text: 'What is the weather in Paris?' }],
  metadata: {},
  token_count: 9,
  inserted_at: '2026-01-01T12:00:00.000Z',
};

const assistantMessage: Message = {
  seq: 42,
  role: 'assistant',
  parts: [
    { type: 'reasoning', text: 'The user wants the weather; call the tool.' },
    {
      type: 'tool-weather',
      toolCallId: 'call_1',
      state: 'output-available',
      input: { city: 'Paris' },
      output: { c: 18 },
    },
    { type: 'text', text: 'It is 18 °C in Paris.' },
  ],
  metadata: { model: 'gpt-4o' },
  token_count: 38,
  inserted_at: '2026-01-01T12:00:01.000Z',
};

const context: Context = {
  id: 'chat:42',
  token_budget: 8000,
  trigger_ratio: 0.7,
  policy: { strategy: 'last_n', config: { limit: 200 } },
  metadata: { user_id: 'u_123' },
  status: 'active',
  version: 42,
  last_seq: 42,
  archived_seq: 0,
  created_at: '2026-01-01T11:00:00.000Z',
  updated_at: '2026-01-01T12:00:01.000Z',
};

export const examples = {
  putContext: {
    request: {
      token_budget: 8000,
      trigger_ratio: 0.7,
      policy: { strategy: 'last_n', config: { limit: 200 } },
      metadata: { user_id: 'u_123' },
    } satisfies PutContextBody,
    response: context,
  },
  putContextSkipParts: {
    token_budget: 128000,
    policy: { strategy: 'skip_parts', config: { skip_kinds: ['reasoning', 'tool'], limit: 400 } },
  } satisfies PutContextBody,
  putContextManual: {
    token_budget: 32000,
    trigger_ratio: 0.8,
    policy: { strategy: 'manual' },
  } satisfies PutContextBody,
  getContext: { response: context },
  patchMetadata: {
    request: { metadata: { title: 'Trip to Paris', draft: null } } satisfies PatchMetadataBody,
    response: { ...context, metadata: { user_id: 'u_123', title: 'Trip to Paris' }, version: 43 },
  },
  appendMessage: {
    request: {
      message: { role: 'user', parts: [{ type: 'text', text: 'What is the weather in Paris?' }] },
      if_version: 40,
    } satisfies AppendBody,
    response: { seq: 41, version: 41, token_estimate: 9 } satisfies AppendResult,
  },
  appendToolResult: {
    message: {
      role: 'tool',
      parts: [{ type: 'tool-result', tool_call_id: 'call_1', output: { c: 18 } }],
      metadata: { source: 'weather-api' },
      token_count: 12,
    },
    idempotency_key: 'turn-7-tool-result',
  } satisfies AppendBody,
  getTail: { response: { messages: [userMessage, assistantMessage] } satisfies TailResponse },
  listMessages: {
    response: { messages: [userMessage, assistantMessage], next_after_seq: null } satisfies MessagesPage,
  },
  getWindow: {
    response: {
      version: 42,
      messages: [
        {
          seq: null,
          role: 'system',
          parts: [{ type: 'text', text: 'Summary: the user is planning a trip to Paris.' }],
          metadata: {},
          token_count: 11,
          inserted_at: '2026-01-01T11:59:00.000Z',
        },
        userMessage,
        assistantMessage,
      ],
      used_tokens: 58,
      needs_compaction: false,
      segments: [
        { type: 'summary', from_seq: 1, to_seq: 40 },
        { type: 'live', from_seq: 41, to_seq: 42 },
      ],
    } satisfies Window,
  },
  compact: {
    request: {
      replacement: [
        { role: 'system', parts: [{ type: 'text', text: 'Summary: the user is planning a trip to Paris.' }] },
        { role: 'user', parts: [{ type: 'text', text: 'What is the weather in Paris?' }] },
      ],
      if_version: 42,
    } satisfies CompactBody,
    response: { version: 43 } satisfies CompactResult,
  },
  createToken: {
    request: { rights: ['read', 'append'], ttl_seconds: 900 } satisfies CreateTokenBody,
    response: {
      token: 'eyJjIjoiY2hhdDo0MiJ9.c2lnbmF0dXJl',
      expires_at: '2026-01-01T12:15:00.000Z',
    } satisfies TokenResponse,
  },
  getCluster: {
    response: {
      mode: 'cluster',
      cluster_id: '6f1c2a9e-8d1b-4b7e-9c3a-2f5d8e1b7a40',
      node: 'fastpaca-1',
      coordinator: 'fastpaca-1',
      nodes: [
        {
          name: 'fastpaca-1',
          id: 'fastpaca-1~3f9a1c2b7d4e',
          address: '10.0.0.11:4000',
          state: 'active',
          status: 'up',
          coordinator: true,
          groups_led: 86,
          groups_replicated: 256,
        },
        {
          name: 'fastpaca-2',
          id: 'fastpaca-2~8b2e4f6a1c3d',
          address: '10.0.0.12:4000',
          state: 'active',
          status: 'up',
          coordinator: false,
          groups_led: 85,
          groups_replicated: 256,
        },
        {
          name: 'fastpaca-3',
          id: 'fastpaca-3~c4d5e6f7a8b9',
          address: '10.0.0.13:4000',
          state: 'active',
          status: 'down',
          coordinator: false,
          groups_led: 0,
          groups_replicated: 256,
        },
      ],
      groups: [
        {
          group: 0,
          leader: 'fastpaca-2',
          replicas: [
            { node: 'fastpaca-1', replica: 'fastpaca-1~3f9a1c2b7d4e', role: 'voter' },
            { node: 'fastpaca-2', replica: 'fastpaca-2~8b2e4f6a1c3d', role: 'voter' },
            { node: 'fastpaca-3', replica: 'fastpaca-3~c4d5e6f7a8b9', role: 'voter' },
          ],
        },
      ],
      meta: {
        group: 256,
        leader: 'fastpaca-1',
        replicas: [
          { node: 'fastpaca-1', replica: 'fastpaca-1~3f9a1c2b7d4e', role: 'voter' },
          { node: 'fastpaca-2', replica: 'fastpaca-2~8b2e4f6a1c3d', role: 'voter' },
          { node: 'fastpaca-3', replica: 'fastpaca-3~c4d5e6f7a8b9', role: 'voter' },
        ],
      },
    } satisfies ClusterView,
  },
  drainNode: {
    response: { node: 'fastpaca-3', state: 'draining' } satisfies DrainResponse,
  },
  errors: {
    400: { error: 'invalid_request', message: 'message.parts: parts must be a non-empty array' },
    401: { error: 'unauthorized', message: 'missing or invalid bearer token' },
    403: { error: 'forbidden', message: 'token does not grant "append" on context chat:42' },
    404: { error: 'not_found', message: 'context chat:42 does not exist' },
    409: {
      error: 'conflict',
      message: 'version mismatch: expected 40, found 42',
      details: { expected: 40, found: 42 },
    },
    413: { error: 'payload_too_large', message: 'request body exceeds 1048576 bytes' },
    429: { error: 'rate_limited', message: 'rate limit exceeded; retry after 1 s' },
    500: { error: 'internal', message: 'internal error (request id req-1)' },
    503: { error: 'unavailable', message: 'group 17 has no leader; retry after 1 s' },
  } satisfies Record<number, ErrorBody>,
  frames: [
    { type: 'message', version: 41, seq: 41, message: userMessage },
    { type: 'context', version: 41, used_tokens: 20, needs_compaction: false },
    { type: 'compaction', version: 43, range: { from_seq: 1, to_seq: 42 } },
    { type: 'context', version: 43, used_tokens: 11, needs_compaction: false },
    { type: 'tombstoned', version: 44 },
    { type: 'reset', version: 44 },
    { type: 'gap', version: 5000, expected: 11, actual: 3977 },
    { type: 'ping', version: 44 },
    { type: 'error', version: 0, error: 'invalid_request', message: 'cursor must be an integer' },
  ] satisfies StreamServerFrame[],
};
