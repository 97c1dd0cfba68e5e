import { buildOpenApiDocument } from '@fastpaca/contract/openapi';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerDocs } from './http/docs.js';
import { registerHealth } from './http/health.js';

export interface AppOptions {
  logger: Logger;
}

/** Builds the HTTP application. It never listens; `main.ts` does. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.logger as FastifyBaseLogger });
  await registerDocs(app, buildOpenApiDocument());
  registerHealth(app);
  return app;
}
