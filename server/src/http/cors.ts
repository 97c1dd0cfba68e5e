import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** Headers a browser may send and read cross-origin: what the SDK sends, and what it reads back. */
const allowed_headers = ['authorization', 'content-type', 'idempotency-key', 'x-request-id'];
const exposed_headers = ['x-request-id', 'retry-after'];

/**
 * CORS for the origins in FASTPACA_CORS_ORIGINS (`'*'`: any): preflights are
 * answered for every route, and responses name the headers the SDK reads.
 * Credentials travel in `Authorization`, never cookies, so none are allowed.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[] | '*'): Promise<void> {
  await app.register(cors, {
    origin: origins === '*' ? '*' : [...origins],
    methods: ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: allowed_headers,
    exposedHeaders: exposed_headers,
    maxAge: 600,
    strictPreflight: false,
  });
}

/**
 * Whether a websocket upgrade may proceed: websockets are not subject to
 * CORS, so once FASTPACA_CORS_ORIGINS names origins the server checks
 * `Origin` itself. Clients that are not browsers send none; a page served by
 * this host is same-origin. Without the variable nothing is checked, as
 * before it existed: a same-origin reverse proxy forwards the page's `Origin`
 * with its own `Host`.
 */
export function originAllowed(
  origins: readonly string[] | '*',
  origin: string | undefined,
  host: string | undefined,
): boolean {
  if (origin === undefined || origins === '*' || origins.length === 0) return true;
  if (origins.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
