import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, createClient, type FastpacaClient } from '../../src/index.js';
import { type ServerProcess, startServer, stopServer } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));

describe('cluster routes through the SDK (a single node)', () => {
  it('cluster() shows one node leading all 256 groups', async () => {
    const view = await client.cluster();
    expect(view.mode).toBe('single');
    expect(view.nodes).toHaveLength(1);
    expect(view.nodes[0]).toMatchObject({ name: view.node, status: 'up', groups_led: 256 });
    expect(view.groups).toHaveLength(256);
    expect(view.groups.every((g) => g.leader === view.node)).toBe(true);
  });

  it('drainNode() on a single node is a conflict that says why', async () => {
    const { node } = await client.cluster();
    const error = await client.drainNode(node).catch((e: unknown) => e);
    expect(ConflictError.isInstance(error)).toBe(true);
    expect((error as ConflictError).status).toBe(409);
    expect((error as ConflictError).message).toMatch(/single node|cluster/i);
  });
});
