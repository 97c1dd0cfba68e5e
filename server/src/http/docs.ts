import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIObject } from 'openapi3-ts/oas31';

/**
 * Serves the OpenAPI document at `/openapi.json` and an interactive reference
 * rendered from it at `/docs`. The document is built from the contract, never
 * from the routes, so the docs describe exactly what clients are typed against.
 */
export async function registerDocs(app: FastifyInstance, document: OpenAPIObject): Promise<void> {
  await app.register(swagger, {
    mode: 'static',
    specification: { document: document as never },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, docExpansion: 'list', tryItOutEnabled: true },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => document);
}
