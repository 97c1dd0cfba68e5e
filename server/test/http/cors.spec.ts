import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';

const KEY = 'test-api-key-0123456789';
const APP = 'https://app.example.com';
let withCors: ServerProcess;
let without: ServerProcess;

beforeAll(async () => {
  [withCors, without] = await Promise.all([
    startServerProcess({
      env: { FASTPACA_API_KEY: KEY, FASTPACA_CORS_ORIGINS: `${APP}, http://localhost:5173` },
    }),
    startServerProcess({ env: { FASTPACA_API_KEY: KEY } }),
  ]);
  for (const s of [withCors, without]) {
    const res = await fetch(`${s.url}/v1/contexts/c`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token_budget: 1000 }),
    });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  for (const s of [withCors, without]) {
    await s?.stop();
    s?.cleanup();
  }
});

const preflight = (url: string, origin: string, method = 'POST') =>
  fetch(`${url}/v1/contexts/c/messages`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    },
  });

/** Opens a stream with the given Origin; resolves with the HTTP status of a refusal, or 101. */
function openStream(url: string, origin: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/contexts/c/stream`, {
      headers: { authorization: `Bearer ${KEY}`, ...(origin && { origin }) },
    });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('CORS – FASTPACA_CORS_ORIGINS', () => {
  it('answers a preflight from a listed origin: methods, headers and max age', async () => {
    const res = await preflight(withCors.url, APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('exposes the headers the SDK reads on real responses', async () => {
    const res = await fetch(`${withCors.url}/v1/contexts/c`, {
      headers: { origin: APP, authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-expose-headers')).toContain('retry-after');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('grants nothing to an origin not listed, nor to any origin when the variable is unset', async () => {
    const other = await preflight(withCors.url, 'https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const unset = await preflight(without.url, APP);
    expect(unset.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('streams: a listed origin, same origin and non-browser clients open; another origin gets 403', async () => {
    expect(await openStream(withCors.url, APP)).toBe(101);
    expect(await openStream(withCors.url, undefined)).toBe(101);
    expect(await openStream(withCors.url, withCors.url)).toBe(101);
    expect(await openStream(withCors.url, 'https://evil.example.com')).toBe(403);
    // Unset: no origin check (a same-origin reverse proxy passes the page's Origin with its own Host).
    expect(await openStream(without.url, 'https://evil.example.com')).toBe(101);
  });
});
