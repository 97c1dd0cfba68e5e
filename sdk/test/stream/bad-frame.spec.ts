import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createClient, FastpacaError } from '../../src/index.js';

/**
 * A server that breaks the contract: every stream it accepts gets a `message`
 * frame without its fields. The frame would come again on every reconnect,
 * so the client must report it once and stop, not reconnect in a loop.
 */
let server: Server | undefined;
const emptyContext = {
  id: 'ctx-1',
  token_budget: 1000,
  trigger_ratio: 0.7,
  policy: { strategy: 'last_n', config: { limit: 200 } },
  metadata: {},
  status: 'active',
  version: 0,
  last_seq: 0,
  archived_seq: 0,
  created_at: '2026-01-01T11:00:00.000Z',
  updated_at: '2026-01-01T11:00:00.000Z',
};

afterEach(() => server?.close());

async function misbehavingServer(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  // REST answers as a real server would for an empty context; only the stream misbehaves.
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(emptyContext));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    connections++;
    socket.send(JSON.stringify({ type: 'message', version: 'one' }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

describe('subscribe – a frame that breaks the contract', () => {
  it('ends the subscription once with invalid_response naming the problem; no reconnect loop', async () => {
    const { url, connections } = await misbehavingServer();
    const client = createClient({ baseUrl: url, retry: false });
    const errors: Error[] = [];
    const sub = client.contextHandle('ctx-1').subscribe({
      onEvent: () => {},
      onError: (error) => errors.push(error),
      reconnect: { baseDelayMs: 10, maxDelayMs: 20 },
    });
    const end = await sub.done;
    expect(end.reason).toBe('error');
    const error = end.reason === 'error' ? end.error : undefined;
    expect(FastpacaError.isInstance(error)).toBe(true);
    expect((error as FastpacaError).code).toBe('invalid_response');
    expect((error as FastpacaError).isRetryable).toBe(false);
    expect(error?.message).toMatch(/message frame/);
    expect(errors).toHaveLength(1);
    // Give a loop the time it would need to show itself.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(connections()).toBe(1);
  });
});
