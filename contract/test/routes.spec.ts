import { describe, expect, it } from 'vitest';
import { contract, streamRoute } from '../src/index.js';
import { buildOpenApiDocument } from '../src/openapi.js';

/** The product's route table (docs/api.md), written out by hand so the contract cannot drift from it. */
const specRoutes = [
  ['PUT', '/v1/contexts/:id'],
  ['GET', '/v1/contexts/:id'],
  ['DELETE', '/v1/contexts/:id'],
  ['PATCH', '/v1/contexts/:id/metadata'],
  ['POST', '/v1/contexts/:id/messages'],
  ['GET', '/v1/contexts/:id/tail'],
  ['GET', '/v1/contexts/:id/messages'],
  ['GET', '/v1/contexts/:id/context'],
  ['POST', '/v1/contexts/:id/compact'],
  ['POST', '/v1/contexts/:id/tokens'],
  ['GET', '/v1/cluster'],
  ['POST', '/v1/cluster/nodes/:name/drain'],
] as const;

const toOpenApiPath = (path: string) => path.replace(/:([a-z_]+)/g, '{$1}');

describe('contract – routes', () => {
  it('has every documented route in the ts-rest router, and nothing else', () => {
    const routes = Object.values(contract).map((r) => `${r.method} ${r.path}`);
    expect(routes.sort()).toEqual(specRoutes.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('declares the websocket stream route', () => {
    expect(`${streamRoute.method} ${streamRoute.path}`).toBe('GET /v1/contexts/:id/stream');
  });

  it('documents every route, the stream included, in the OpenAPI document', () => {
    const doc = buildOpenApiDocument();
    for (const [method, path] of [...specRoutes, [streamRoute.method, streamRoute.path] as const]) {
      const operation = doc.paths?.[toOpenApiPath(path)]?.[method.toLowerCase() as 'get'];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation?.summary, `${method} ${path} summary`).toBeTruthy();
      expect(operation?.description, `${method} ${path} description`).toBeTruthy();
    }
  });

  it('documents every error response with the error schema', () => {
    const doc = buildOpenApiDocument();
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const [method, operation] of Object.entries(item)) {
        const responses = (
          operation as { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }
        ).responses;
        const errors = Object.entries(responses).filter(([code]) => Number(code) >= 400);
        expect(errors.length, `${method} ${path} has error responses`).toBeGreaterThan(0);
        for (const [code, response] of errors) {
          expect(response.content?.['application/json']?.schema, `${method} ${path} ${code}`).toEqual({
            $ref: '#/components/schemas/Error',
          });
        }
      }
    }
  });

  it('gives every JSON request and success response an example', () => {
    const doc = buildOpenApiDocument();
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const [method, op] of Object.entries(item)) {
        const operation = op as {
          requestBody?: { content: Record<string, { example?: unknown }> };
          responses: Record<string, { content?: Record<string, { example?: unknown; examples?: unknown }> }>;
        };
        if (operation.requestBody) {
          expect(
            operation.requestBody.content['application/json']?.example,
            `${method} ${path} request`,
          ).toBeDefined();
        }
        for (const [code, response] of Object.entries(operation.responses)) {
          const media = response.content?.['application/json'];
          if (Number(code) < 400 && media) {
            expect(media.example ?? media.examples, `${method} ${path} ${code} example`).toBeDefined();
          }
        }
      }
    }
  });

  it('is OpenAPI 3.1 with the stream frames under components', () => {
    const doc = buildOpenApiDocument();
    expect(doc.openapi).toBe('3.1.0');
    const schemas = Object.keys(doc.components?.schemas ?? {});
    for (const frame of [
      'MessageFrame',
      'ContextFrame',
      'CompactionFrame',
      'TombstonedFrame',
      'ResetFrame',
      'GapFrame',
    ]) {
      expect(schemas).toContain(frame);
    }
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
  });
});
