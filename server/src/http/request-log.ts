import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';

/**
 * One histogram sample per request, labelled by the route pattern (never the
 * raw URL, which would explode cardinality), and one debug log line; errors are
 * logged where they are handled.
 */
export function registerRequestObservability(app: FastifyInstance, metrics: Metrics, debug: boolean): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      seconds,
    );
    if (debug) {
      const params = request.params as { id?: string } | undefined;
      request.log.debug(
        {
          type: 'http_request',
          method: request.method,
          route,
          status: reply.statusCode,
          duration_ms: Math.round(reply.elapsedTime * 100) / 100,
          context_id: params?.id,
        },
        'request',
      );
    }
  });
}
