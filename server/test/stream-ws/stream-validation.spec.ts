import { streamCloseCodes } from '@fastpaca/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from '../http/client.js';
import { openStream } from './stream-client.js';

let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;

beforeAll(async () => {
  server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1' } });
  api = jsonClient(server.url);
  expect((await api.put('/v1/contexts/v', { token_budget: 10_000 })).status).toBe(200);
  for (let i = 0; i < 3; i++)
    expect((await api.post('/v1/contexts/v/messages', { message: text(`m${i}`) })).status).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

/** Connects, expects exactly one `error` frame and then the given close code. */
async function expectErrorClose(contextId: string, options: Parameters<typeof openStream>[2], code: number) {
  const client = await openStream(server.url, contextId, options);
  const closed = await client.closedWithin();
  expect(client.invalid).toEqual([]);
  expect(client.frames).toHaveLength(1);
  const frame = client.frames[0]!;
  expect(frame.type).toBe('error');
  expect(closed.code).toBe(code);
  return frame;
}

describe('stream route – request validation', () => {
  it.each([
    ['negative', '-1'],
    ['text', 'abc'],
    ['fractional', '1.5'],
    ['huge', '99999999999999999999999'],
    ['empty', ''],
  ])('a %s cursor gets an error frame then close 4400', async (_name, cursor) => {
    const frame = await expectErrorClose('v', { cursor }, streamCloseCodes.invalid_request);
    expect(frame).toMatchObject({ type: 'error', error: 'invalid_request' });
    if (frame.type === 'error') expect(frame.message).toContain('cursor');
  });

  it('an unknown query parameter and a bad include_messages are rejected with 4400', async () => {
    await expectErrorClose('v', { rawQuery: 'bogus=1' }, streamCloseCodes.invalid_request);
    await expectErrorClose('v', { rawQuery: 'include_messages=maybe' }, streamCloseCodes.invalid_request);
  });

  it('an unknown context gets an error frame then close 4404', async () => {
    const frame = await expectErrorClose('does-not-exist', {}, streamCloseCodes.not_found);
    expect(frame).toMatchObject({ type: 'error', error: 'not_found' });
  });

  it('an invalid context id gets an error frame then close 4400', async () => {
    const frame = await expectErrorClose('bad id!', {}, streamCloseCodes.invalid_request);
    expect(frame).toMatchObject({ type: 'error', error: 'invalid_request' });
  });

  it('a cursor ahead of the context gets reset with the current version, then live events', async () => {
    const client = await openStream(server.url, 'v', { cursor: 1_000 });
    const reset = await client.waitFor((f) => f.type === 'reset');
    expect(reset).toEqual({ type: 'reset', version: 3 });
    expect((await api.post('/v1/contexts/v/messages', { message: text('after reset') })).status).toBe(201);
    await client.waitForVersion(4);
    expect(client.frames.map((f) => `${f.type}:${f.version}`)).toEqual(['reset:3', 'message:4', 'context:4']);
    await client.close();
    expect(client.invalid).toEqual([]);
  });

  it('a plain HTTP GET on the stream path answers 426 with a JSON error', async () => {
    const res = await fetch(`${server.url}/v1/contexts/v/stream`);
    expect(res.status).toBe(426);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('upgrade_required');
    expect(body.message).toMatch(/websocket/i);
  });
});
