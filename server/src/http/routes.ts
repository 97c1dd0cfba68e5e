import { contract, limits } from '@fastpaca/contract';
import { initServer } from '@ts-rest/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authorizer, Requirement } from '../auth/authorizer.js';
import { bearer } from '../auth/authorizer.js';
import type { TokenSigner } from '../auth/scoped-token.js';
import { AppError } from '../errors/app-error.js';
import type { ClusterApi } from '../node/cluster-api.js';
import type { ContextService } from '../node/context-service.js';
import { sendError, validationError } from './error-handler.js';
import { windowJson } from './window-json.js';

const s = initServer();

export interface RouteDeps {
  service: ContextService;
  cluster: ClusterApi;
  authorizer: Authorizer;
  signer: TokenSigner;
  now: () => number;
}

function authorize(deps: RouteDeps, request: FastifyRequest, need: Requirement): void {
  deps.authorizer.authorize(bearer(request.headers.authorization), need);
}

/**
 * The `/v1` routes: a thin layer that checks access, calls the node and shapes
 * the reply. Validation happened in ts-rest against the contract's schemas.
 */
export function registerContextRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { service } = deps;
  const router = s.router(contract, {
    putContext: async ({ params, body, request }) => {
      authorize(deps, request, { right: 'admin', context_id: params.id });
      return { status: 200, body: await service.putContext(params.id, body) };
    },
    getContext: async ({ params, request }) => {
      authorize(deps, request, { right: 'read', context_id: params.id });
      return { status: 200, body: await service.getContext(params.id) };
    },
    deleteContext: async ({ params, request }) => {
      authorize(deps, request, { right: 'admin', context_id: params.id });
      await service.tombstone(params.id);
      request.log.info({ type: 'context_tombstoned', context_id: params.id }, 'context tombstoned');
      return { status: 204, body: undefined };
    },
    patchMetadata: async ({ params, body, request }) => {
      authorize(deps, request, { right: 'admin', context_id: params.id });
      return { status: 200, body: await service.patchMetadata(params.id, body.metadata) };
    },
    appendMessage: async ({ params, body, headers, request }) => {
      authorize(deps, request, { right: 'append', context_id: params.id });
      const headerKey = headers['idempotency-key'];
      if (
        headerKey !== undefined &&
        body.idempotency_key !== undefined &&
        headerKey !== body.idempotency_key
      ) {
        throw new AppError(
          'invalid_request',
          'body.idempotency_key: differs from the Idempotency-Key header; send one or make them equal',
        );
      }
      // The contract admits exactly one of `message` and `messages`.
      const turn = body.messages !== undefined;
      const { replayed, first_seq, ...result } = await service.append(params.id, {
        messages: body.messages ?? [body.message!],
        if_version: body.if_version,
        idempotency_key: headerKey ?? body.idempotency_key,
      });
      request.log.debug(
        {
          type: replayed ? 'append_replayed' : 'message_appended',
          context_id: params.id,
          seq: result.seq,
          version: result.version,
        },
        'append',
      );
      return { status: replayed ? 200 : 201, body: turn ? { first_seq, ...result } : result };
    },
    getTail: async ({ params, query, request }) => {
      authorize(deps, request, { right: 'read', context_id: params.id });
      return { status: 200, body: await service.tail(params.id, query.offset, query.limit) };
    },
    listMessages: async ({ params, query, request }) => {
      authorize(deps, request, { right: 'read', context_id: params.id });
      return { status: 200, body: await service.messages(params.id, query.after_seq, query.limit) };
    },
    getWindow: async ({ params, query, request, reply }) => {
      authorize(deps, request, { right: 'read', context_id: params.id });
      const window = await service.window(params.id, query);
      // Sent pre-serialized (see window-json.ts); the body is exactly JSON.stringify(window).
      reply.type('application/json; charset=utf-8');
      return { status: 200, body: windowJson(window) as unknown as typeof window };
    },
    compact: async ({ params, body, request }) => {
      authorize(deps, request, { right: 'admin', context_id: params.id });
      const result = await service.compact(params.id, body);
      request.log.info(
        {
          type: 'context_compacted',
          context_id: params.id,
          version: result.version,
          replacement: body.replacement.length,
        },
        'window replaced',
      );
      return { status: 200, body: result };
    },
    getCluster: async ({ request }) => {
      authorize(deps, request, { right: 'admin', context_id: '' });
      return { status: 200, body: await deps.cluster.view() };
    },
    drainNode: async ({ params, request }) => {
      authorize(deps, request, { right: 'admin', context_id: '' });
      const drained = await deps.cluster.drain(params.name);
      request.log.info({ type: 'node_drain_requested', peer: params.name }, 'drain requested');
      return { status: 202, body: drained };
    },
    createToken: async ({ params, body, request }) => {
      authorize(deps, request, { right: 'admin', context_id: params.id });
      await service.getContext(params.id);
      const ttl = body.ttl_seconds ?? limits.token_ttl_seconds_default;
      const expires_at_s = Math.floor(deps.now() / 1000) + ttl;
      const token = deps.signer.sign({
        context_id: params.id,
        rights: [...new Set(body.rights)],
        expires_at_s,
      });
      return { status: 201, body: { token, expires_at: new Date(expires_at_s * 1000).toISOString() } };
    },
  });
  // ts-rest installs an error handler on this scope: validation errors are
  // rendered here, anything else is passed up to the application's handler.
  s.registerRouter(contract, router, app, {
    logInitialization: false,
    responseValidation: false,
    requestValidationErrorHandler: (error, _request, reply) => sendError(reply, validationError(error)),
  });
}
