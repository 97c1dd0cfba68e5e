/**
 * The one seam between the subscription logic and a websocket implementation:
 * `ws` in Node (it can send an Authorization header and read a refused
 * upgrade's status), the native WebSocket elsewhere.
 */

/** A refused upgrade: the HTTP answer instead of `101 Switching Protocols`. */
export interface SocketRefusal {
  status: number;
  body: string;
  retryAfter?: string | undefined;
}

export interface SocketClose {
  code: number;
  reason: string;
  /** Present when the server refused the upgrade and the runtime could see its answer. */
  refusal?: SocketRefusal | undefined;
}

export interface SocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  /** Called exactly once, when the socket is gone, whoever closed it. No handler runs after it. */
  onClose(event: SocketClose): void;
}

export interface SocketConnection {
  send(text: string): void;
  /** Starts closing; `onClose` follows, within a bounded time even if the peer never answers. */
  close(code: number, reason: string): void;
}

export interface SocketRequest {
  url: string;
  /** API key or scoped token. */
  credential?: string | undefined;
}

export type OpenSocket = (request: SocketRequest, handlers: SocketHandlers) => SocketConnection;

/** How long a closing socket may take before it is torn down without the closing handshake. */
export const socketCloseGraceMs = 1_000;
