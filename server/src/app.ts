import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import { buildOpenApiDocument } from '@fastpaca/contract/openapi';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { Authorizer } from './auth/authorizer.js';
import { TokenSigner } from './auth/scoped-token.js';
import { AppError } from './errors/app-error.js';
import { registerCors } from './http/cors.js';
import { registerDocs } from './http/docs.js';
import { installErrorHandler, installNotFoundHandler, sendError } from './http/error-handler.js';
import { registerHealth } from './http/health.js';
import { trackInFlight } from './http/in-flight.js';
import { registerMetricsRoute } from './http/metrics-route.js';
import { registerRequestObservability } from './http/request-log.js';
import { registerContextRoutes } from './http/routes.js';
import { chooseSubprotocol, registerStreamRoute } from './http/stream-route.js';
import type { Metrics } from './metrics/metrics.js';
import type { ClusterApi } from './node/cluster-api.js';
import type { ContextService } from './node/context-service.js';
import type { StreamHub } from './stream/stream-hub.js';
import type { StreamSource } from './stream/stream-source.js';

export interface AppOptions {
  logger: Logger;
  metrics: Metrics;
  service: ContextService;
  cluster: ClusterApi;
  /** This node's hub: heartbeats and shutdown. */
  hub: StreamHub;
  /** Where subscriptions come from (the hub, or relays from other nodes). */
  streams: StreamSource;
  stream: { connections_max: number; ping_interval_ms: number; message_bytes_max?: number };
  /**
   * Takes over HTTP upgrades for the node link (cluster nodes). Decides by the
   * request; returns false for upgrades that are not its own.
   */
  nodeLink?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  apiKey?: string;
  /** Origins browsers may call from (CORS and the websocket `Origin` check); `'*'` for any. */
  corsOrigins?: readonly string[] | '*';
  tokenSecret?: string;
  bodyLimitBytes?: number;
  rateLimitPerSecond?: number;
  requestTimeoutMs?: number;
  now?: () => number;
}

/** Builds the HTTP application. It never listens; `main.ts` does. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimitBytes ?? 1_048_576;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    // Context ids may be 256 characters; longer ones must reach validation and get a 400.
    routerOptions: { maxParamLength: 2048 },
    // Errors fastify raises before routing (a malformed URL) get the same body as every other error.
    frameworkErrors: (error, _request, reply) =>
      sendError(reply, new AppError('invalid_request', `path: ${error.message.slice(0, 200)}`)),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Request logs and latency come from our own hook; errors are logged where they are handled.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'req_id' }),
    return503OnClosing: true,
  });
  trackInFlight(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // The API speaks JSON only: anything else is a 415 rather than a string body.
  app.removeContentTypeParser('text/plain');
  installErrorHandler(app, bodyLimit);
  installNotFoundHandler(app);
  const heartbeat = setInterval(() => options.hub.heartbeat(), options.stream.ping_interval_ms);
  heartbeat.unref();
  // Upgrades reach the node link first; the websocket plugin sees only the rest.
  const upgrades = new EventEmitter();
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.nodeLink?.(req, socket, head)) return;
    upgrades.emit('upgrade', req, socket, head);
  });
  await app.register(websocket, {
    options: {
      server: upgrades as unknown as Server,
      maxPayload: options.stream.message_bytes_max ?? 64 * 1024,
      handleProtocols: (protocols) => chooseSubprotocol(protocols),
    },
    // Replaces the plugin's default, which closes sockets without a code (1005):
    // subscribers must learn the server is going away (1001) and reconnect elsewhere.
    preClose(done) {
      clearInterval(heartbeat);
      options.hub.closeAll('going_away', 'server shutting down');
      for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down');
      this.websocketServer.close(() => done());
    },
  });
  options.metrics.streamConnections(() => options.streams.connectionCount());
  registerRequestObservability(app, options.metrics, options.logger.isLevelEnabled('debug'));

  await registerDocs(app, buildOpenApiDocument());
  registerHealth(app, {
    notReadyReason: () => options.service.notReadyReason(),
    notLiveReason: () => options.service.notLiveReason(),
  });
  registerMetricsRoute(app, options.metrics);

  const origins = options.corsOrigins ?? [];
  if (origins === '*' || origins.length > 0) await registerCors(app, origins);

  const signer = new TokenSigner(options.tokenSecret, options.apiKey);
  const authorizer = new Authorizer(options.apiKey, signer, options.now);
  await app.register(async (v1) => {
    if (options.rateLimitPerSecond && options.rateLimitPerSecond > 0) {
      // One bucket for the whole node: it protects the node, not a tenant.
      await v1.register(rateLimit, {
        max: options.rateLimitPerSecond,
        timeWindow: 1000,
        keyGenerator: () => 'node',
        errorResponseBuilder: (_request, context) => {
          const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
          return new AppError(
            'rate_limited',
            `rate limit of ${context.max} requests/s exceeded; retry after ${seconds} s`,
            undefined,
            seconds,
          );
        },
      });
    }
    registerContextRoutes(v1, {
      service: options.service,
      cluster: options.cluster,
      authorizer,
      signer,
      now: options.now ?? Date.now,
    });
    registerStreamRoute(v1, {
      origins,
      streams: options.streams,
      authorizer,
      metrics: options.metrics,
      connections_max: options.stream.connections_max,
    });
  });
  return app;
}
