import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { FastpacaError } from '@fastpaca/sdk';
import type { ChatService, Turn } from './chat-service.js';
import { proxyRequest, proxyUpgrade } from './proxy.js';

export type UiHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface BackendOptions {
  service: ChatService;
  /** The store the page's `/v1` requests and websockets are passed through to. */
  storeUrl: string;
  tokenBudget: number;
  triggerRatio: number;
  /** Serves the page: Vite's middlewares in development, the built files otherwise. */
  ui?: UiHandler;
}

const bodyBytesMax = 64 * 1024;
const textCharsMax = 8_000;
const idPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const messageIdPattern = /^[A-Za-z0-9_-]{1,100}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > bodyBytesMax)
      throw new HttpError(413, 'payload_too_large', `bodies are limited to ${bodyBytesMax} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    throw new HttpError(400, 'invalid_request', 'the body is not JSON');
  }
}

/** The browser's turn, checked field by field: it comes from the open internet. */
export function parseTurn(body: unknown): Turn {
  const fail = (what: string): never => {
    throw new HttpError(400, 'invalid_request', what);
  };
  if (typeof body !== 'object' || body === null) fail('expected {message, assistant_message_id}');
  const { message, assistant_message_id } = body as { message?: unknown; assistant_message_id?: unknown };
  if (typeof assistant_message_id !== 'string' || !messageIdPattern.test(assistant_message_id)) {
    fail('assistant_message_id: 1-100 characters of [A-Za-z0-9_-]');
  }
  if (typeof message !== 'object' || message === null) fail('message: expected a UI message');
  const { id, role, parts } = message as { id?: unknown; role?: unknown; parts?: unknown };
  if (typeof id !== 'string' || !messageIdPattern.test(id))
    fail('message.id: 1-100 characters of [A-Za-z0-9_-]');
  if (role !== 'user') fail('message.role: must be "user"');
  if (!Array.isArray(parts) || parts.length !== 1) fail('message.parts: expected one text part');
  const [part] = parts as { type?: unknown; text?: unknown }[];
  if (part?.type !== 'text' || typeof part.text !== 'string')
    fail('message.parts[0]: expected {type: "text", text}');
  const text = (part as { text: string }).text.trim();
  if (text.length === 0 || text.length > textCharsMax) fail(`message text: 1-${textCharsMax} characters`);
  return {
    message: { id: id as string, role: 'user', parts: [{ type: 'text', text }] },
    assistantMessageId: assistant_message_id as string,
  };
}

/**
 * The chat backend: a few JSON routes that need the API key, a pass-through
 * of `/v1` to the store for the page's scoped-token reads and stream, and the
 * page itself.
 */
export function createBackend(options: BackendOptions): Server {
  const { service } = options;
  const store = new URL(options.storeUrl);

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/api/info' && req.method === 'GET') {
      sendJson(res, 200, {
        model: service.modelName,
        token_budget: options.tokenBudget,
        trigger_ratio: options.triggerRatio,
      });
      return;
    }
    const match = /^\/api\/chats\/([^/]+)\/(token|turns|compact)$/.exec(path);
    if (!match || req.method !== 'POST')
      throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
    const id = decodeURIComponent(match[1]!);
    if (!idPattern.test(id))
      throw new HttpError(400, 'invalid_request', 'chat id: 1-128 characters of [A-Za-z0-9._:-]');
    switch (match[2]) {
      case 'token':
        sendJson(res, 201, await service.token(id));
        return;
      case 'compact': {
        const aborted = new AbortController();
        res.on('close', () => aborted.abort());
        sendJson(res, 200, await service.compact(id, aborted.signal));
        return;
      }
      default:
        await streamTurn(req, res, id, parseTurn(await readJson(req)));
    }
  }

  /**
   * Streams the reply as plain text. The status line waits for the first
   * word, so a model that fails at once is reported as a 502 the page can
   * show. Closing the response early (stop, reload, lost network) aborts the
   * model; the service then stores what was said so far.
   */
  async function streamTurn(
    _req: IncomingMessage,
    res: ServerResponse,
    id: string,
    turn: Turn,
  ): Promise<void> {
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const write = (delta: string) => {
      if (!res.headersSent) {
        res.writeHead(200, {
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        });
      }
      if (!gone.signal.aborted) res.write(delta);
    };
    const outcome = await service.turn(id, turn, write, gone.signal);
    if (gone.signal.aborted) return;
    if (outcome.error) {
      if (!res.headersSent) throw new HttpError(502, 'model_failed', outcome.error.message);
      // Mid-reply: breaking the stream is how the page learns the reply is incomplete.
      res.destroy();
      return;
    }
    if (!res.headersSent) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    }
    res.end();
  }

  function fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) {
      sendJson(res, error.status, { error: error.code, message: error.message });
      return;
    }
    if (FastpacaError.isInstance(error)) {
      const status = error.status >= 400 && error.status < 600 ? error.status : 502;
      sendJson(res, status, { error: error.code, message: error.message });
      return;
    }
    console.error('chat backend:', error);
    sendJson(res, 500, { error: 'internal', message: 'the chat backend failed; see its log' });
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.startsWith('/v1/')) {
      proxyRequest(store, req, res);
      return;
    }
    if (path.startsWith('/api/')) {
      route(req, res, path).catch((error: unknown) => fail(res, error));
      return;
    }
    if (options.ui) {
      options.ui(req, res, () => sendJson(res, 404, { error: 'not_found', message: 'not found' }));
      return;
    }
    sendJson(res, 404, { error: 'not_found', message: 'no UI is served by this backend' });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Other upgrades (Vite's hot reload in development) belong to their own listeners.
    if (req.url?.startsWith('/v1/')) proxyUpgrade(store, req, socket, head);
  });
  return server;
}
