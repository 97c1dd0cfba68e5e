import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../src/testing/server-process.js';

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
