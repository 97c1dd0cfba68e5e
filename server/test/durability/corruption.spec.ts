import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from '../http/client.js';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.kill();
  servers[0]?.cleanup();
});

/**
 * Regression: 400 appends acknowledged, kill -9, one byte flipped at 40 % of
 * the newest WAL segment: the node used to come up ready with 58 of the 400
 * messages and say nothing. Now it refuses to start, naming the file and the
 * offset; with the byte put back it starts with all 400.
 */
describe('durability – a damaged log stops start-up', () => {
  it('corruption – a flipped byte in the middle of the newest segment stops the server, naming file and offset', async () => {
    const env = { FASTPACA_TOKEN_ESTIMATOR: 'chars:4' };
    const server = await startServerProcess({ env });
    servers.push(server);
    const api = jsonClient(server.url);
    expect((await api.put('/v1/contexts/flip', { token_budget: 1_000_000 })).status).toBe(200);
    for (let i = 1; i <= 400; i++) {
      const res = await api.post('/v1/contexts/flip/messages', { message: text(`m${i}`) });
      expect(res.status).toBe(201);
    }
    await server.kill();

    const walDir = join(server.dataDir, 'raft', 'wal');
    const newest = join(
      walDir,
      readdirSync(walDir)
        .filter((n) => n.endsWith('.wal'))
        .sort()
        .at(-1)!,
    );
    const original = readFileSync(newest);
    const at = Math.floor(statSync(newest).size * 0.4);
    const damaged = Buffer.from(original);
    damaged[at] = damaged[at]! ^ 0x20;
    writeFileSync(newest, damaged);

    const refused = await startServerProcess({ env, dataDir: server.dataDir, port: server.port }).then(
      (s) => {
        servers.push(s);
        return undefined;
      },
      (error: Error) => error.message,
    );
    expect(refused, 'the server must not start on a damaged log').toBeDefined();
    expect(refused).toContain('exited with 1');
    expect(refused).toMatch(new RegExp(`raft log ${newest.replaceAll('/', '\\/')} is corrupt at byte \\d+`));
    const offset = Number(/corrupt at byte (\d+)/.exec(refused!)![1]);
    expect(offset).toBeLessThanOrEqual(at);
    expect(offset).toBeGreaterThan(0);

    writeFileSync(newest, original);
    const restored = await startServerProcess({ env, dataDir: server.dataDir, port: server.port });
    servers.push(restored);
    const page = await jsonClient(restored.url).get('/v1/contexts/flip/messages?after_seq=0&limit=1000');
    expect(page.body.messages.map((m: { parts: { text: string }[] }) => m.parts[0]!.text)).toEqual(
      Array.from({ length: 400 }, (_, i) => `m${i + 1}`),
    );
  }, 120_000);
});
