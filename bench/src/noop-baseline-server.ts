/**
 * The ceiling: a fastify service with fastpaca's routes that does nothing but
 * HTTP. An append parses the same JSON body and answers 201 with a per-context
 * counter (no validation, no token counting, no storage, no fsync); a window
 * read answers a prebuilt window of the same size as the real one. What this
 * process sustains on a machine is the most any HTTP service in Node can.
 *
 *   PORT=4100 tsx src/noop-baseline-server.ts
 */
import Fastify from 'fastify';
import { messages, window_messages_max, window_tokens_max } from './workload.js';

/** The messages above average ~48 tokens; the prebuilt window needs a fixed estimate, not an exact count. */
const tokens_per_message = 48;

const counters = new Map<string, number>();
const windowMessages = messages(7, window_messages_max)
  .slice(0, Math.floor(window_tokens_max / tokens_per_message))
  .map((m, i) => ({
    seq: i + 1,
    ...m,
    metadata: {},
    token_count: tokens_per_message,
    inserted_at: new Date(0).toISOString(),
  }));
const windowJson = JSON.stringify({
  version: windowMessages.length,
  messages: windowMessages,
  used_tokens: windowMessages.length * tokens_per_message,
  needs_compaction: false,
  segments: [{ type: 'live', from_seq: 1, to_seq: windowMessages.length }],
});

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, keepAliveTimeout: 120_000 });
type Params = { Params: { id: string } };
app.get('/health/ready', async () => ({ status: 'ready' }));
app.put<Params>('/v1/contexts/:id', async (req) => {
  if (!counters.has(req.params.id)) counters.set(req.params.id, 0);
  return { id: req.params.id };
});
app.get<Params>('/v1/contexts/:id', async (req, reply) => {
  const last = counters.get(req.params.id);
  return last === undefined
    ? reply.code(404).send({ error: 'not_found' })
    : { id: req.params.id, last_seq: last };
});
app.post<Params>('/v1/contexts/:id/messages', async (req, reply) => {
  const seq = (counters.get(req.params.id) ?? 0) + 1;
  counters.set(req.params.id, seq);
  return reply.code(201).send({ seq, version: seq, token_estimate: 0 });
});
// Set-up only: a later GET reports the history as if it had been appended.
app.post<{ Body: { ids: string[]; count: number } }>('/bench/fill', async (req) => {
  for (const id of req.body.ids) counters.set(id, (counters.get(id) ?? 0) + req.body.count);
  return { filled: req.body.ids.length * req.body.count };
});
app.get<Params>('/v1/contexts/:id/context', async (_req, reply) =>
  reply.type('application/json; charset=utf-8').send(windowJson),
);

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().finally(() => process.exit(0));
});
