import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { sendError } from './error-handler.js';

/**
 * Liveness says the process can go on without a restart: it fails once the
 * storage failed (a failed write leaves the disk's state unknown; only a
 * restart, which recovers from what is really on disk, can serve again), so
 * an orchestrator restarts it. Readiness says it can serve writes: the
 * storage is open and every local group has a leader.
 */
export function registerHealth(
  app: FastifyInstance,
  health: { notReadyReason: () => string | undefined; notLiveReason: () => string | undefined },
): void {
  const { notReadyReason, notLiveReason } = health;
  app.get('/health/live', async (_request, reply) => {
    const reason = notLiveReason();
    if (reason) return sendError(reply, new AppError('unavailable', `not live: ${reason}`));
    return { status: 'ok' };
  });
  app.get('/health/ready', async (_request, reply) => {
    const reason = notReadyReason();
    if (reason) return sendError(reply, new AppError('unavailable', `not ready: ${reason}`, undefined, 1));
    return { status: 'ready' };
  });
}
