import { type ServerProcess, type StartServerOptions, startServerProcess } from '@fastpaca/server/testing';

export {
  stopServerProcess as stopServer,
  uniqueContextId as uniqueId,
} from '@fastpaca/server/testing';
export type { ServerProcess };

/** A real server process with a deterministic token estimator (one token per character). */
export function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  return startServerProcess({
    ...options,
    env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1', ...options.env },
  });
}

export const text = (value: string, role = 'user') => ({ role, parts: [{ type: 'text', text: value }] });

/** Open websocket subscriptions on the server, from its `fastpaca_stream_connections` gauge. */
export async function openStreams(server: ServerProcess): Promise<number> {
  const body = await (await fetch(`${server.url}/metrics`)).text();
  let total = 0;
  for (const line of body.split('\n')) {
    if (line.startsWith('fastpaca_stream_connections'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
