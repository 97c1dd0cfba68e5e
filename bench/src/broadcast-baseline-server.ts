/**
 * Baseline for the stream fan-out benchmark: a bare `ws` server with no
 * storage, consensus or validation. `POST /append` numbers the message, sends
 * the same frames the real server would (`message`, a `compaction` once the
 * window is full, `context`) to every connected client, then answers like the
 * real append. Any websocket path is accepted. Three ways to send:
 *
 * Like the real server (whose Raft log commits appends in batches), appends
 * that arrive while the event loop is busy are handled as one batch when it
 * is idle (`setImmediate`): every client's socket is corked, the batch's
 * frames are sent, the sockets are uncorked (one write per client), and only
 * then are the appends answered, so frames leave before acks, as they do in
 * the real server. Three ways to send:
 *
 * - `BASELINE_MODE=prepared` (default): each version's frames are serialized
 *   and framed once (by the server's own `encodeGroup`) and the same bytes are
 *   written to every client's TCP socket. The cheapest fan-out there is, so
 *   the ratio to it shows what the real server adds.
 * - `BASELINE_MODE=batched`: `ws.send(buffer)` per client and frame.
 * - `BASELINE_MODE=naive`: `ws.send(string)` per client and frame, no corking,
 *   each append answered at once.
 *
 *   PORT=4100 tsx src/broadcast-baseline-server.ts
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { StreamEventFrame } from '@fastpaca/contract';
import { type WebSocket, WebSocketServer } from 'ws';
import { encodeGroup } from '../../server/src/stream/encoded-group.js';

/**
 * The benchmark's context keeps its window under 14,000 tokens (budget 20,000
 * × trigger 0.7), so once full every append trims the oldest messages and
 * emits a `compaction` frame. Tokens are estimated as characters / 4 here.
 */
const window_tokens_max = 14_000;
const body_bytes_max = 1024 * 1024;

const port = Number(process.env.PORT ?? 4100);
const mode = process.env.BASELINE_MODE ?? 'prepared';
if (!['prepared', 'batched', 'naive'].includes(mode)) throw new Error(`BASELINE_MODE: unknown mode ${mode}`);
/** The TCP socket under each client, for corking and prepared writes. */
const tcpOf = new WeakMap<WebSocket, Socket>();
let seq = 0;
let usedTokens = 0;
/** Token counts of the window's messages, oldest first, from seq `windowFrom`. */
const windowTokens: number[] = [];
let windowFrom = 1;
/** Appends waiting for the next batch: their frames and how to answer them. */
let batch: { events: StreamEventFrame[]; answer: () => void }[] = [];
/** Bounds a batch like the real server's proposal batches; the rest waits for the next turn. */
const batch_appends_max = 1_000;

function runBatch(): void {
  const current = batch.slice(0, batch_appends_max);
  batch = batch.slice(current.length);
  if (batch.length > 0) setImmediate(runBatch);
  for (const client of wss.clients) tcpOf.get(client)?.cork();
  for (const append of current) broadcast(append.events);
  for (const client of wss.clients) tcpOf.get(client)?.uncork();
  for (const append of current) append.answer();
}

function broadcast(events: StreamEventFrame[]): void {
  if (mode === 'naive') {
    const texts = events.map((e) => JSON.stringify(e));
    for (const client of wss.clients) {
      if (client.readyState !== client.OPEN) continue;
      for (const text of texts) client.send(text);
    }
    return;
  }
  if (mode === 'batched') {
    const encoded = events.map((e) => Buffer.from(JSON.stringify(e)));
    for (const client of wss.clients) {
      if (client.readyState !== client.OPEN) continue;
      for (const frame of encoded) client.send(frame, { binary: false });
    }
    return;
  }
  const { wire } = encodeGroup(events);
  for (const client of wss.clients) {
    if (client.readyState === client.OPEN) tcpOf.get(client)?.write(wire);
  }
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health/ready') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/append') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
    if (body.length > body_bytes_max) req.destroy();
  });
  req.on('end', () => {
    const input = JSON.parse(body) as { message: { role: string; parts: { type: string; text: string }[] } };
    seq++;
    const version = seq;
    const tokenCount = Math.ceil(input.message.parts.reduce((n, p) => n + (p.text?.length ?? 0), 0) / 4);
    const message = {
      seq,
      role: input.message.role,
      parts: input.message.parts,
      metadata: {},
      token_count: tokenCount,
      inserted_at: new Date().toISOString(),
    };
    const events: StreamEventFrame[] = [{ type: 'message', version, seq, message }];
    usedTokens += tokenCount;
    windowTokens.push(tokenCount);
    if (usedTokens > window_tokens_max) {
      const from = windowFrom;
      while (usedTokens > window_tokens_max && windowTokens.length > 1) {
        usedTokens -= windowTokens.shift()!;
        windowFrom++;
      }
      events.push({ type: 'compaction', version, range: { from_seq: from, to_seq: windowFrom - 1 } });
    }
    events.push({ type: 'context', version, used_tokens: usedTokens, needs_compaction: false });
    const answer = () =>
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ seq: message.seq, version, token_estimate: tokenCount }));
    if (mode === 'naive') {
      broadcast(events);
      answer();
      return;
    }
    if (batch.length === 0) setImmediate(runBatch);
    batch.push({ events, answer });
  });
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  tcpOf.set(ws, req.socket);
  ws.on('message', () => {
    // Pongs and anything else from clients are ignored.
  });
  ws.on('error', () => {});
});

// Idle keep-alive sockets must outlive the load generator's pauses, or a reused socket can be reset under it.
server.keepAliveTimeout = 120_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
});
