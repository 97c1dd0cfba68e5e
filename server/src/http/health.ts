import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { sendError } from './error-handler.js';

/**
 * Liveness says the process answers; readiness says it can serve writes: the
 * storage is open and every local group has a leader.
 */
export function registerHealth(app: FastifyInstance, notReadyReason: () => string | undefined): void {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const reason = notReadyReason();
    if (reason) return sendError(reply, new AppError('unavailable', `not ready: ${reason}`, undefined, 1));
    return { status: 'ready' };
  });
}
