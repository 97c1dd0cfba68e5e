import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, createClient, type FastpacaClient } from '../../src/index.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));

describe('optimistic concurrency – conflict flow', () => {
  it('read version, append with ifVersion, 409 with expected/found, re-read, retry succeeds', async () => {
    const id = uniqueId('conflict');
    const writer = await client.context(id, { budget: 10_000 });
    const { version } = await writer.get();
    expect(version).toBe(0);

    // Someone else appends first: our version is now stale.
    await client.contextHandle(id).append(text('from another writer'));

    const error = await writer.append(text('mine'), { ifVersion: version }).catch((e: unknown) => e);
    expect(ConflictError.isInstance(error)).toBe(true);
    const conflict = error as ConflictError;
    expect(conflict).toMatchObject({
      status: 409,
      code: 'conflict',
      expected: 0,
      found: 1,
      isRetryable: false,
    });
    expect(conflict.isVersionMismatch).toBe(true);

    const fresh = await writer.get();
    expect(fresh.version).toBe(conflict.found);
    const result = await writer.append(text('mine'), { ifVersion: fresh.version });
    expect(result).toMatchObject({ seq: 2, version: 2, replayed: false });
    expect((await writer.getTail()).messages.map((m) => m.parts[0]?.text)).toEqual([
      'from another writer',
      'mine',
    ]);
  });

  it('a compare-and-append loop converges when writers race', async () => {
    const id = uniqueId('race');
    await client.context(id, { budget: 100_000 });
    const appendWithRetry = async (label: string) => {
      const ctx = client.contextHandle(id);
      for (let attempt = 0; attempt < 50; attempt++) {
        const { version } = await ctx.get();
        try {
          return await ctx.append(text(label), { ifVersion: version });
        } catch (error) {
          if (!ConflictError.isInstance(error)) throw error;
        }
      }
      throw new Error(`${label} did not converge`);
    };
    const results = await Promise.all(['a', 'b', 'c', 'd'].map(appendWithRetry));
    expect(results.map((r) => r.seq).sort()).toEqual([1, 2, 3, 4]);
    expect((await client.contextHandle(id).get()).last_seq).toBe(4);
  });

  it('context() with a stale ifVersion is a ConflictError', async () => {
    const ctx = await client.context(uniqueId('window-conflict'), { budget: 1000 });
    await ctx.append(text('x'));
    await expect(ctx.context({ ifVersion: 0 })).rejects.toSatisfy(
      (e: unknown) => ConflictError.isInstance(e) && e.expected === 0 && e.found === 1,
    );
    expect((await ctx.context({ ifVersion: 1 })).version).toBe(1);
  });
});
