import type { FastifyInstance } from 'fastify';

const counters = new WeakMap<FastifyInstance, { count: number }>();

/** Counts HTTP requests under way (websocket upgrades aside: they end when their stream does). */
export function trackInFlight(app: FastifyInstance): void {
  const counter = { count: 0 };
  counters.set(app, counter);
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.upgrade?.toLowerCase() === 'websocket') return;
    counter.count++;
    reply.raw.once('close', () => {
      counter.count--;
    });
  });
}

/** Resolves once no request is under way, or after `timeoutMs`. */
export async function requestsDrained(app: FastifyInstance, timeoutMs: number): Promise<void> {
  const counter = counters.get(app);
  const deadline = Date.now() + timeoutMs;
  while (counter && counter.count > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
