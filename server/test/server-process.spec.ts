import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, serverMainPath, startServerProcess } from '../src/testing/server-process.js';

describe('server process – foundation endpoints', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('GET /health/live answers ok', async () => {
    const res = await fetch(`${server.url}/health/live`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /openapi.json serves the committed contract document', async () => {
    const { readFileSync } = await import('node:fs');
    const { createRequire } = await import('node:module');
    const committed = JSON.parse(
      readFileSync(createRequire(import.meta.url).resolve('@fastpaca/contract/openapi.json'), 'utf8'),
    );
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual(committed);
  });

  it('GET /docs serves the API reference page', async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('swagger-ui');
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    const other = await startServerProcess();
    expect(await other.stop()).toBe(0);
    other.cleanup();
  });

  it('refuses to start with a bad PORT and names the variable', async () => {
    await expect(startServerProcess({ env: { PORT: 'eighty' }, timeoutMs: 5_000 })).rejects.toThrow(/PORT/);
  });
});

describe('server process – start-up errors', () => {
  it('a port already in use stops start-up naming PORT', async () => {
    const first = await startServerProcess();
    try {
      const { spawnSync } = await import('node:child_process');
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const second = spawnSync(process.execPath, [serverMainPath], {
        env: {
          ...process.env,
          PORT: String(first.port),
          HOST: '127.0.0.1',
          FASTPACA_RAFT_DATA_DIR: mkdtempSync(join(tmpdir(), 'fastpaca-test-')),
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(second.status).toBe(2);
      expect(second.stderr).toContain(`PORT ${first.port} is already in use on HOST 127.0.0.1`);
    } finally {
      await first.stop();
      first.cleanup();
    }
  });

  it('a bad token estimator stops start-up naming FASTPACA_TOKEN_ESTIMATOR', async () => {
    await expect(
      startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'tiktoken:nope' }, timeoutMs: 8_000 }),
    ).rejects.toThrow(/FASTPACA_TOKEN_ESTIMATOR/);
  });

  it('a misspelt FASTPACA_* variable stops start-up naming the nearest known one', async () => {
    await expect(
      startServerProcess({ env: { FASTPACA_CLUSTER_SEEDS: 'a:4000' }, timeoutMs: 8_000 }),
    ).rejects.toThrow(
      /FASTPACA_CLUSTER_SEEDS is not a fastpaca variable; did you mean FASTPACA_CLUSTER_SEED\?/,
    );
  });

  it('a data directory that belongs to another node name is refused', async () => {
    const first = await startServerProcess({ env: { FASTPACA_NODE_NAME: 'node-a' } });
    await first.stop();
    try {
      await expect(
        startServerProcess({
          dataDir: first.dataDir,
          env: { FASTPACA_NODE_NAME: 'node-b' },
          timeoutMs: 8_000,
        }),
      ).rejects.toThrow(/belongs to node "node-a"/);
    } finally {
      first.cleanup();
    }
  });
});
