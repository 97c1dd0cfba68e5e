import { createClientFor, type FastpacaClient } from './client.js';
import type { ClientOptions } from './options.js';
import { openNodeSocket } from './stream/node-socket.js';

export * from './public-api.js';

/**
 * A client for Node: REST through `fetch`, websockets through `ws` with the
 * credential in the Authorization header.
 */
export function createClient(options: ClientOptions): FastpacaClient {
  return createClientFor(options, { openSocket: openNodeSocket, socketReportsRefusals: true });
}
