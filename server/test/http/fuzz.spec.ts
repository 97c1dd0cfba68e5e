import {
  AppendBodySchema,
  CompactBodySchema,
  CreateTokenBodySchema,
  PatchMetadataBodySchema,
  PutContextBodySchema,
} from '@fastpaca/contract';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from './client.js';

let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;

beforeAll(async () => {
  server = await startServerProcess({ env: { FASTPACA_BODY_LIMIT_BYTES: '65536' } });
  api = jsonClient(server.url);
  await api.put('/v1/contexts/target', { token_budget: 1000, metadata: { keep: true } });
  await api.post('/v1/contexts/target/messages', { message: text('original') });
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

/** Bodies that a schema rejects: fuzzing with them must never change state. */
const invalidFor = (schema: z.ZodTypeAny) =>
  fc
    .oneof(
      fc.anything({ maxDepth: 3 }),
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ message: fc.anything({ maxDepth: 2 }) }),
      fc.record({ message: fc.record({ role: fc.anything(), parts: fc.anything() }) }),
      fc.record({ token_budget: fc.oneof(fc.double(), fc.bigInt().map(String), fc.constant(1e300)) }),
      fc.record({ replacement: fc.anything({ maxDepth: 2 }), if_version: fc.anything() }),
      fc.record({ rights: fc.anything() }),
      fc.record({ metadata: fc.oneof(fc.array(fc.anything()), fc.string(), fc.constant(null)) }),
    )
    .filter((body) => !schema.safeParse(body).success);

const weirdId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).map(encodeURIComponent),
  fc.constant('x'.repeat(300)),
  fc.constant('..%2F..%2Fetc'),
  fc.constant('%00'),
  fc.constant('target%2F'),
);

const route = fc.constantFrom(
  ['PUT', '', PutContextBodySchema],
  ['PATCH', '/metadata', PatchMetadataBodySchema],
  ['POST', '/messages', AppendBodySchema],
  ['POST', '/compact', CompactBodySchema],
  ['POST', '/tokens', CreateTokenBodySchema],
) as fc.Arbitrary<[string, string, z.ZodTypeAny]>;

const request = fc.oneof(
  // Invalid bodies against the real context.
  fc.tuple(route, fc.constant('target')).chain(([[method, suffix, schema], id]) =>
    invalidFor(schema).map((body) => ({
      method,
      path: `/v1/contexts/${id}${suffix}`,
      body: JSON.stringify(body) ?? 'null',
      type: 'application/json',
    })),
  ),
  // Anything at all against ids that cannot be the target.
  fc.record({
    method: fc.constantFrom('GET', 'PUT', 'POST', 'PATCH', 'DELETE'),
    path: fc
      .tuple(
        weirdId,
        fc.constantFrom('', '/messages', '/tail', '/context', '/compact', '/tokens', '/metadata', '/x'),
      )
      .map(([id, s]) => `/v1/contexts/${id}${s}`),
    body: fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.constant('{"a":'),
    ),
    type: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
  }),
  // Bad query strings on reads of the target.
  fc.record({
    method: fc.constant('GET'),
    path: fc
      .tuple(
        fc.constantFrom('/tail', '/messages', '/context'),
        fc.constantFrom('limit', 'offset', 'after_seq', 'budget_tokens', 'if_version', 'bogus'),
        fc.oneof(
          fc.constantFrom(
            '-1',
            '0',
            '1001',
            '1e3',
            '9007199254740993',
            '99999999999999999999',
            'NaN',
            '',
            '1.5',
          ),
          fc.string().map(encodeURIComponent),
        ),
      )
      .filter(([, k, v]) => !(k !== 'bogus' && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000))
      .map(([r, k, v]) => `/v1/contexts/target${r}?${k}=${v}`),
    body: fc.constant(undefined as string | undefined),
    type: fc.constant(''),
  }),
);

describe('fuzz – malformed requests', () => {
  it('thousands of malformed requests: never 5xx, the process survives, state is unchanged', async () => {
    const before = {
      ctx: (await api.get('/v1/contexts/target')).body,
      messages: (await api.get('/v1/contexts/target/messages')).body,
      window: (await api.get('/v1/contexts/target/context')).body,
    };
    const samples = fc.sample(request, { seed: 42, numRuns: 3000 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 25) {
      await Promise.all(
        samples.slice(i, i + 25).map(async (r) => {
          const res = await fetch(server.url + r.path, {
            method: r.method,
            headers: r.type ? { 'content-type': r.type } : {},
            body: r.method === 'GET' || r.method === 'DELETE' ? undefined : r.body,
          });
          const body = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500)
            throw new Error(`${r.method} ${r.path} ${r.body?.slice(0, 200)} → ${res.status} ${body}`);
          if (res.status >= 400) {
            const parsed = JSON.parse(body) as { error: string; message: string };
            expect(typeof parsed.error).toBe('string');
            expect(parsed.message).not.toMatch(/\n\s+at /);
          }
        }),
      );
    }
    expect(server.child.exitCode).toBeNull();
    expect((await api.get('/v1/contexts/target')).body).toEqual(before.ctx);
    expect((await api.get('/v1/contexts/target/messages')).body).toEqual(before.messages);
    expect((await api.get('/v1/contexts/target/context')).body).toEqual(before.window);
    // The fuzz must actually exercise the error paths.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(1000);
  });

  it('oversize bodies are refused with 413 and nothing is written', async () => {
    const huge = JSON.stringify({ message: text('y'.repeat(200_000)) });
    const res = await fetch(`${server.url}/v1/contexts/target/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    });
    expect(res.status).toBe(413);
    expect((await api.get('/v1/contexts/target')).body.last_seq).toBe(1);
  });
});
