import { generateSchema } from '@anatine/zod-openapi';
import { generateOpenApi } from '@ts-rest/open-api';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from 'openapi3-ts/oas31';
import type { ZodTypeAny } from 'zod';
import { contract } from './contract.js';
import { ErrorBodySchema, errorStatus } from './errors.js';
import { examples } from './examples.js';
import {
  CompactionFrameSchema,
  ContextFrameSchema,
  ErrorFrameSchema,
  GapFrameSchema,
  MessageFrameSchema,
  PingFrameSchema,
  PongFrameSchema,
  ResetFrameSchema,
  StreamQuerySchema,
  streamCloseCodes,
  streamRoute,
  streamTokenSubprotocolPrefix,
  TombstonedFrameSchema,
} from './stream/frames.js';

const statusText: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Invalid request: the message names the failing field',
  401: 'Missing or invalid API key or token',
  403: 'The scoped token does not grant this right on this context',
  404: 'The context does not exist',
  409: 'Conflict: version mismatch (details has expected and found) or tombstoned context',
  413: 'Request body too large',
  429: 'Rate limited; see Retry-After',
  500: 'Internal error (never a stack trace)',
  503: 'No leader or quorum for the context group; see Retry-After',
};

type RouteExamples = { request?: unknown; response?: unknown };
const routeExamples = examples as unknown as Record<string, RouteExamples | undefined>;

/**
 * OpenAPI 3.0 `nullable: true` becomes a 3.1 type union, recursively, so the
 * document validates as 3.1 and JSON Schema tools read it correctly.
 */
function toOas31Schema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOas31Schema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable') continue;
    out[key] = key === 'example' || key === 'examples' || key === 'default' ? value : toOas31Schema(value);
  }
  if ((schema as { nullable?: boolean }).nullable === true) {
    const type = out.type;
    if (typeof type === 'string') out.type = [type, 'null'];
    else if (Array.isArray(type)) out.type = [...new Set([...type, 'null'])];
    else return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

function schemaOf(zod: ZodTypeAny): SchemaObject {
  return toOas31Schema(generateSchema(zod)) as SchemaObject;
}

const errorRef: ReferenceObject = { $ref: '#/components/schemas/Error' };

function errorResponse(status: number): ResponseObject {
  const example = (examples.errors as Record<number, unknown>)[status];
  return {
    description: statusText[status] ?? 'Error',
    content: { 'application/json': { schema: errorRef, ...(example ? { example } : {}) } },
  };
}

function decorate(operation: OperationObject, operationId: string): OperationObject {
  const ex = routeExamples[operationId];
  const responses: Record<string, ResponseObject> = {};
  for (const [code, response] of Object.entries(operation.responses ?? {})) {
    const status = Number(code);
    if (status >= 400) {
      responses[code] = errorResponse(status);
      continue;
    }
    const res = response as ResponseObject;
    const media = res.content?.['application/json'];
    responses[code] = {
      ...res,
      description: statusText[status] ?? res.description,
      ...(media
        ? {
            content: {
              'application/json': {
                ...media,
                schema: toOas31Schema(media.schema) as SchemaObject,
                ...(ex?.response !== undefined ? { example: ex.response } : {}),
              },
            },
          }
        : { content: undefined }),
    };
    if (!media) delete responses[code].content;
  }
  const requestBody = operation.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined;
  const bodyMedia = requestBody?.content?.['application/json'];
  return {
    ...operation,
    operationId,
    tags: ['contexts'],
    security: [{ bearerAuth: [] }],
    parameters: (operation.parameters as ParameterObject[] | undefined)?.map((p) => ({
      ...p,
      schema: toOas31Schema(p.schema) as SchemaObject,
    })),
    ...(bodyMedia?.schema
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: toOas31Schema(bodyMedia.schema) as SchemaObject,
                ...(ex?.request !== undefined ? { example: ex.request } : {}),
              },
            },
          },
        }
      : { requestBody: undefined }),
    responses,
  };
}

const frameSchemas = {
  MessageFrame: MessageFrameSchema,
  ContextFrame: ContextFrameSchema,
  CompactionFrame: CompactionFrameSchema,
  TombstonedFrame: TombstonedFrameSchema,
  ResetFrame: ResetFrameSchema,
  GapFrame: GapFrameSchema,
  PingFrame: PingFrameSchema,
  ErrorFrame: ErrorFrameSchema,
  PongFrame: PongFrameSchema,
} as const;

function streamOperation(): OperationObject {
  const closeCodes = Object.entries(streamCloseCodes)
    .map(([reason, code]) => `\`${code}\` ${reason}`)
    .join(', ');
  const query = schemaOf(StreamQuerySchema) as SchemaObject & { properties: Record<string, SchemaObject> };
  const parameters: ParameterObject[] = [
    { name: 'id', in: 'path', required: true, schema: schemaOf(streamRoute.pathParams.shape.id) },
    ...Object.entries(query.properties as Record<string, SchemaObject>).map(
      ([name, schema]): ParameterObject => ({
        name,
        in: 'query',
        required: false,
        description: schema.description,
        schema,
      }),
    ),
  ];
  const frameList = Object.keys(frameSchemas)
    .map((name) => `[${name}](#/components/schemas/${name})`)
    .join(', ');
  return {
    operationId: 'streamContext',
    tags: ['contexts'],
    summary: streamRoute.summary,
    description: [
      'A websocket on the same port as REST. Send `Upgrade: websocket`; the server answers 101 and then sends JSON',
      'text frames, one object each, with `type` and `version`.',
      '',
      'On connect with `cursor=N` the server first replays every event with a version above N that it still holds,',
      'then goes live, with no gap and no duplicate. A version\u2019s frames arrive together: `message` frames, then',
      '`compaction`, then one `context` (or `tombstoned`). A cursor older than the replay buffer gets one `gap` frame',
      'and the socket closes: fetch `/messages`, then reconnect. The server sends `ping` every 30 s; answer',
      '`{"type":"pong"}` or the socket closes after 90 s. A consumer that falls too far behind is closed.',
      '',
      `Auth: \`Authorization: Bearer <key or token>\`, \`?token=<token>\`, or the subprotocol`,
      `\`${streamTokenSubprotocolPrefix}<token>\`. Missing or bad credentials and the per-node connection cap`,
      '(`FASTPACA_STREAM_MAX_CONNECTIONS`) refuse the upgrade with an HTTP error body; request problems after the',
      'upgrade (bad cursor, unknown context) send an `error` frame and close.',
      '',
      `Server frames: ${frameList}. Client frames: PongFrame.`,
      `Close codes: ${closeCodes}.`,
    ].join('\n'),
    security: [{ bearerAuth: [] }],
    parameters,
    responses: {
      '101': {
        description: 'Switching Protocols: the websocket is open and frames follow.',
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/StreamServerFrame' },
            examples: Object.fromEntries(
              examples.frames.map((frame, i) => [`${frame.type}_${i}`, { value: frame }]),
            ),
          },
        },
      },
      '401': errorResponse(401),
      '403': errorResponse(403),
      '426': {
        description: 'Upgrade Required: this path only speaks websocket.',
        content: { 'application/json': { schema: errorRef } },
      },
      '503': errorResponse(503),
    },
  };
}

export interface OpenApiOptions {
  /** Base URL shown in the document's `servers`; omitted when not given. */
  serverUrl?: string;
}

/** Builds the OpenAPI 3.1 document of the whole API from the contract. */
export function buildOpenApiDocument(options: OpenApiOptions = {}): OpenAPIObject {
  const generated = generateOpenApi(
    contract,
    {
      info: {
        title: 'Fastpaca Context Store API',
        version: '1.0.0',
        description:
          'Durable, token-budgeted LLM context. Every context keeps the full append-only message log and a ' +
          'compacted LLM window under a token budget.',
        license: { name: 'Apache-2.0' },
      },
    },
    { setOperationId: false },
  );

  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const [name, route] of Object.entries(contract)) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const method = route.method.toLowerCase();
    const operation = (generated.paths as Record<string, Record<string, OperationObject>>)[path]?.[method];
    if (!operation) throw new Error(`route ${name} (${route.method} ${path}) missing from generated OpenAPI`);
    paths[path] ??= {};
    paths[path][method] = decorate(operation, name);
  }
  const streamPath = streamRoute.path.replace(/:([A-Za-z_]+)/g, '{$1}');
  paths[streamPath] = { get: streamOperation() };

  const schemas: Record<string, SchemaObject> = { Error: schemaOf(ErrorBodySchema) };
  for (const [name, zod] of Object.entries(frameSchemas)) schemas[name] = schemaOf(zod);
  schemas.StreamServerFrame = {
    description: 'Every frame the server sends on the stream.',
    oneOf: Object.keys(frameSchemas)
      .filter((name) => name !== 'PongFrame')
      .map((name) => ({ $ref: `#/components/schemas/${name}` })),
    discriminator: { propertyName: 'type' },
  };

  return {
    openapi: '3.1.0',
    info: generated.info,
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: [{ name: 'contexts', description: 'Contexts, their message log and LLM window.' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The API key (`FASTPACA_API_KEY`) or a scoped token from `POST /v1/contexts/{id}/tokens`.',
        },
      },
    },
  };
}

/** Every error status the API can answer with, for documentation tests. */
export const documentedErrorStatuses = Object.values(errorStatus);
