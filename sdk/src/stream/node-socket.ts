import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { type OpenSocket, type SocketRefusal, socketCloseGraceMs } from './socket.js';

/** A refused upgrade's error body is small; anything beyond this is not read. */
const refusalBodyBytesMax = 16 * 1024;

/**
 * Node websockets through `ws`: the credential goes in the Authorization
 * header, and a refused upgrade (401, 403, 503 over the connection cap) is read
 * so the subscription can tell a bad token from an outage.
 */
export const openNodeSocket: OpenSocket = (request, handlers) => {
  const headers: Record<string, string> = {};
  if (request.credential) headers.authorization = `Bearer ${request.credential}`;
  const ws = new WebSocket(request.url, { headers, perMessageDeflate: false });
  let refusal: SocketRefusal | undefined;
  let finished = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;

  const finish = (code: number, reason: string) => {
    if (finished) return;
    finished = true;
    clearTimeout(killTimer);
    ws.removeAllListeners();
    // ws emits 'error' for late failures; an EventEmitter without a listener would throw.
    ws.on('error', () => {});
    handlers.onClose({ code, reason, refusal });
  };

  ws.on('open', () => handlers.onOpen());
  ws.on('message', (data, isBinary) => {
    if (!isBinary) handlers.onMessage(data.toString());
  });
  // Every error is followed by 'close', which is where the outcome is reported.
  ws.on('error', () => {});
  ws.on('close', (code, reason) => finish(code, reason.toString()));
  ws.on('unexpected-response', (_req, res: IncomingMessage) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      const retryAfter = res.headers['retry-after'];
      refusal = {
        status: res.statusCode ?? 0,
        body: Buffer.concat(chunks).toString('utf8'),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
      ws.terminate();
    };
    res.on('data', (chunk: Buffer) => {
      if (size < refusalBodyBytesMax) chunks.push(chunk);
      size += chunk.length;
    });
    res.once('end', done);
    res.once('error', done);
  });

  return {
    send(text) {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    close(code, reason) {
      if (finished) return;
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.terminate();
        return;
      }
      ws.close(code, reason);
      // ws would wait 30 s for a silent peer's closing frame; do not keep the process alive that long.
      clearTimeout(killTimer);
      killTimer = setTimeout(() => ws.terminate(), socketCloseGraceMs);
    },
  };
};
