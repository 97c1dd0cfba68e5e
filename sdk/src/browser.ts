import { createClientFor, type FastpacaClient } from './client.js';
import type { ClientOptions } from './options.js';
import { openBrowserSocket } from './stream/browser-socket.js';

export * from './public-api.js';

/**
 * A client for browsers and other runtimes with a native WebSocket (Deno,
 * Bun, workers). Give it a scoped `token` from your backend, never the API
 * key: the stream sends it as a websocket subprotocol.
 */
export function createClient(options: ClientOptions): FastpacaClient {
  return createClientFor(options, { openSocket: openBrowserSocket, socketReportsRefusals: false });
}
