import type { Socket } from 'node:net';
import type {} from '@fastify/websocket';
import {
  ContextIdSchema,
  type ErrorCode,
  StreamClientFrameSchema,
  StreamQuerySchema,
  streamCloseCodes,
  streamRoute,
  streamTokenSubprotocolPrefix,
} from '@fastpaca/contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { type Authorizer, bearer } from '../auth/authorizer.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StreamSink } from '../stream/stream-hub.js';
import type { OpenStream, StreamSource } from '../stream/stream-source.js';
import { originAllowed } from './cors.js';
import { toAppError } from './error-catalogue.js';
import { sendError } from './error-handler.js';

export interface StreamRouteDeps {
  /** Origins whose pages may open streams (FASTPACA_CORS_ORIGINS); same-origin and non-browser clients always may. */
  origins: readonly string[] | '*';
  /** Where subscriptions come from: this node's hub, or a relay from a node with a replica. */
  streams: StreamSource;
  authorizer: Authorizer;
  metrics: Metrics;
  connections_max: number;
}

/** The credential of a stream request: header, `?token=`, or `fastpaca.token.<t>` subprotocol. */
function streamCredential(request: FastifyRequest): string | undefined {
  const fromHeader = bearer(request.headers.authorization);
  if (fromHeader) return fromHeader;
  const query = request.query as Record<string, unknown> | undefined;
  if (typeof query?.token === 'string' && query.token) return query.token;
  const protocols = request.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    for (const p of protocols.split(',')) {
      const trimmed = p.trim();
      if (trimmed.startsWith(streamTokenSubprotocolPrefix))
        return trimmed.slice(streamTokenSubprotocolPrefix.length);
    }
  }
  return undefined;
}

/** Browsers require the server to pick one of the offered subprotocols, so echo the first. */
export function chooseSubprotocol(protocols: Set<string>): string | false {
  for (const p of protocols) return p;
  return false;
}

/** A close reason is at most 123 bytes of UTF-8 (RFC 6455); a longer one makes `ws` throw. */
function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= 123) return text;
  // Cut on a character boundary: drop a trailing partial sequence.
  let end = 120;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}...`;
}

function fail(socket: WebSocket, code: ErrorCode, message: string, version = 0): void {
  const close =
    code === 'not_found' ? 'not_found' : code === 'unavailable' ? 'unavailable' : 'invalid_request';
  socket.send(JSON.stringify({ type: 'error', version, error: code, message }));
  socket.close(streamCloseCodes[close], closeReason(message));
}

/**
 * The hub's view of one websocket. Everything sent during one synchronous run
 * (the hub publishes a whole batch of applied entries in one) is corked and
 * leaves in a single write when the run ends, instead of one system call per
 * frame. Pre-framed event bytes go straight to the TCP socket; that is only
 * safe without a negotiated extension, so with one every frame goes through
 * `ws`.
 */
function socketSink(socket: WebSocket, tcp: Socket): StreamSink {
  let corked = false;
  /** Bytes written since the socket was corked: the current burst, not a backlog. */
  let burstBytes = 0;
  const cork = () => {
    if (corked) return;
    corked = true;
    tcp.cork();
    process.nextTick(() => {
      corked = false;
      burstBytes = 0;
      tcp.uncork();
    });
  };
  return {
    send: (json) => {
      if (socket.readyState !== socket.OPEN) return;
      cork();
      burstBytes += Buffer.byteLength(json);
      socket.send(json);
    },
    sendFramed:
      socket.extensions === ''
        ? (wire) => {
            // After a close frame (ours or the client's) no data frame may follow.
            if (socket.readyState !== socket.OPEN) return;
            cork();
            burstBytes += wire.length;
            tcp.write(wire);
          }
        : undefined,
    // A burst larger than the bound is not a slow consumer; what is still queued from earlier runs is.
    bufferedBytes: () => Math.max(0, socket.bufferedAmount - burstBytes),
    close: (code, reason) => socket.close(code, reason),
  };
}

/**
 * `GET /v1/contexts/:id/stream`: auth and the connection cap are checked before
 * the upgrade (refused with an HTTP error body); request problems after it are
 * an `error` frame and a close code, which browsers can read.
 */
export function registerStreamRoute(app: FastifyInstance, deps: StreamRouteDeps): void {
  const { streams, metrics } = deps;
  let pending = 0;

  app.route({
    method: 'GET',
    url: streamRoute.path,
    preValidation: async (request, reply) => {
      if (!request.ws) return;
      const origin = request.headers.origin;
      if (!originAllowed(deps.origins, origin, request.headers.host)) {
        metrics.streamRefused.inc({ reason: 'forbidden' });
        return sendError(
          reply,
          new AppError('forbidden', `origin ${origin} may not open streams: add it to FASTPACA_CORS_ORIGINS`),
        );
      }
      const id = (request.params as { id: string }).id;
      try {
        const principal = deps.authorizer.authorize(streamCredential(request), {
          right: 'read',
          context_id: id,
        });
        if (principal.kind === 'token') {
          (request as FastifyRequest & { tokenExpiresAt?: number }).tokenExpiresAt =
            principal.expires_at_s * 1000;
        }
      } catch (error) {
        if (error instanceof AppError) {
          metrics.streamRefused.inc({ reason: error.code });
          return sendError(reply, error);
        }
        throw error;
      }
      if (streams.connectionCount() + pending >= deps.connections_max) {
        metrics.streamRefused.inc({ reason: 'capacity' });
        return sendError(
          reply,
          new AppError(
            'unavailable',
            `stream connection limit of ${deps.connections_max} reached on this node; retry later or use another node`,
            undefined,
            1,
          ),
        );
      }
      pending++;
      let released = false;
      const release = () => {
        if (!released) {
          released = true;
          pending--;
        }
      };
      (request as FastifyRequest & { releaseSlot?: () => void }).releaseSlot = release;
      request.raw.socket.once('close', release);
      return undefined;
    },
    handler: async (_request, reply) =>
      sendError(
        reply,
        new AppError('upgrade_required', 'this route only speaks websocket: send Upgrade: websocket'),
      ),
    wsHandler: async (socket, request) => {
      // The reserved slot is held until the hub counts the subscription (or it is refused):
      // releasing it before the read barrier let a burst of upgrades through past the cap.
      const release = (request as FastifyRequest & { releaseSlot?: () => void }).releaseSlot;
      try {
        await openSubscription(socket, request);
      } finally {
        release?.();
      }
    },
  });

  async function openSubscription(socket: WebSocket, request: FastifyRequest): Promise<void> {
    const params = ContextIdSchema.safeParse((request.params as { id: unknown }).id);
    if (!params.success)
      return fail(socket, 'invalid_request', `path.id: ${params.error.issues[0]?.message}`);
    const query = StreamQuerySchema.safeParse(request.query);
    if (!query.success) {
      const issue = query.error.issues[0];
      return fail(socket, 'invalid_request', `query.${issue?.path.join('.') || ''}: ${issue?.message}`);
    }
    const contextId = params.data;
    const log = request.log.child({ context_id: contextId });
    let stream: OpenStream | undefined;
    let gone = false;
    socket.once('close', (code, reason) => {
      gone = true;
      stream?.close();
      log.info({ type: 'stream_close', code, reason: reason.toString() }, 'stream closed');
    });
    let outcome: Awaited<ReturnType<StreamSource['open']>>;
    try {
      outcome = await streams.open(
        contextId,
        {
          cursor: query.data.cursor,
          includeMessages: query.data.include_messages,
          expiresAt: (request as FastifyRequest & { tokenExpiresAt?: number }).tokenExpiresAt,
        },
        socketSink(socket, request.raw.socket),
      );
    } catch (error) {
      const known = toAppError(error);
      return fail(
        socket,
        'unavailable',
        known ? known.message : `node unavailable: ${(error as Error).message}`,
      );
    }
    if (!outcome.ok) {
      if (outcome.reason === 'not_found')
        return fail(socket, 'not_found', `context ${contextId} does not exist`);
      log.info({ type: 'stream_refused', reason: outcome.reason }, 'stream closed at connect');
      return;
    }
    stream = outcome.stream;
    // The client left while the subscription was being opened.
    if (gone || socket.readyState !== socket.OPEN) {
      stream.close();
      return;
    }
    log.info(
      { type: 'stream_open', cursor: query.data.cursor ?? null, version: stream.version },
      'stream open',
    );

    socket.on('message', (data, isBinary) => {
      if (!stream || isBinary) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        return;
      }
      // Unknown client frames are ignored so newer clients can talk to older servers.
      if (StreamClientFrameSchema.safeParse(parsed).success) stream.pong();
    });
    socket.on('error', (error) => log.debug({ type: 'stream_error', err: error }, 'stream socket error'));
  }
}
