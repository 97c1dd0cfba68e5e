import { streamTokenSubprotocolPrefix } from '@fastpaca/contract';
import { type OpenSocket, socketCloseGraceMs } from './socket.js';

/** The part of the WHATWG WebSocket this SDK uses. */
interface NativeWebSocket {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

type NativeWebSocketConstructor = new (url: string, protocols?: string | string[]) => NativeWebSocket;

/** Characters allowed in a subprotocol name (an HTTP token). Scoped tokens always qualify. */
const subprotocolSafe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Browsers cannot set headers on a websocket, so the credential travels as the
 * `fastpaca.token.<token>` subprotocol, or as `?token=` when it has characters
 * a subprotocol cannot carry. Browsers hide why an upgrade failed; the
 * subscription finds out with a REST request instead.
 */
export const openBrowserSocket: OpenSocket = (request, handlers) => {
  const NativeWebSocket = (globalThis as { WebSocket?: NativeWebSocketConstructor }).WebSocket;
  if (typeof NativeWebSocket !== 'function') {
    throw new Error('@fastpaca/sdk: this runtime has no global WebSocket; use the Node entry point');
  }
  let url = request.url;
  let protocols: string[] | undefined;
  if (request.credential) {
    if (subprotocolSafe.test(request.credential)) {
      protocols = [streamTokenSubprotocolPrefix + request.credential];
    } else {
      url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(request.credential)}`;
    }
  }
  const ws = new NativeWebSocket(url, protocols);
  let finished = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;

  const finish = (code: number, reason: string) => {
    if (finished) return;
    finished = true;
    clearTimeout(killTimer);
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
    handlers.onClose({ code, reason });
  };

  ws.onopen = () => handlers.onOpen();
  ws.onmessage = (event) => {
    if (typeof event.data === 'string') handlers.onMessage(event.data);
  };
  ws.onerror = () => {};
  ws.onclose = (event) => finish(event.code, event.reason);

  return {
    send(text) {
      if (ws.readyState === 1) ws.send(text);
    },
    close(code, reason) {
      if (finished) return;
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
      // A runtime that never reports the close must not leave the subscription waiting.
      clearTimeout(killTimer);
      killTimer = setTimeout(() => finish(1006, 'closed without a closing handshake'), socketCloseGraceMs);
    },
  };
};
