/**
 * The HTTP face shared by the "what teams build instead" baselines: a plain
 * fastify service with fastpaca's routes (the subset the benchmark uses), JSON
 * schema validation of the append body, and token counting with the server's
 * own estimator, so the only difference from fastpaca is where and how
 * messages are stored. Each baseline is its own process.
 */
import { countMessage, loadEstimator } from '@fastpaca/server/context';
import Fastify from 'fastify';
import { messages } from './workload.js';

export interface MessageIn {
  role: string;
  parts: { type: string; [key: string]: unknown }[];
  metadata: Record<string, unknown>;
  token_count: number;
}

export interface StoredMessage extends MessageIn {
  seq: number;
  inserted_at: string | Date;
}

export interface WindowBody {
  version: number;
  messages: StoredMessage[];
  used_tokens: number;
}

/** A storage design behind the baseline routes. */
export interface BaselineStore {
  /** Creates the context if it does not exist. */
  put(id: string): Promise<void>;
  /** The newest seq, or undefined for an unknown context. */
  lastSeq(id: string): Promise<number | undefined>;
  /** The new message's seq, or undefined for an unknown context. */
  append(id: string, message: MessageIn): Promise<number | undefined>;
  /** The newest messages whose running token sum fits the window, oldest first. */
  window(id: string): Promise<WindowBody | undefined>;
  /** Appends `count` generated messages to each context in bulk (benchmark set-up, not measured). */
  fill(ids: string[], messages: MessageIn[]): Promise<void>;
  close(): Promise<void>;
}

const appendSchema = {
  body: {
    type: 'object',
    required: ['message'],
    properties: {
      message: {
        type: 'object',
        required: ['role', 'parts'],
        properties: {
          role: { type: 'string', minLength: 1, maxLength: 64 },
          parts: {
            type: 'array',
            minItems: 1,
            maxItems: 1_000,
            items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
          },
          metadata: { type: 'object' },
          token_count: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

const fillSchema = {
  body: {
    type: 'object',
    required: ['ids', 'count', 'seed'],
    properties: {
      ids: { type: 'array', minItems: 1, maxItems: 100_000, items: { type: 'string' } },
      count: { type: 'integer', minimum: 1, maximum: 10_000_000 },
      seed: { type: 'integer' },
    },
  },
} as const;

interface AppendBody {
  message: {
    role: string;
    parts: MessageIn['parts'];
    metadata?: Record<string, unknown>;
    token_count?: number;
  };
}

/** Starts the service on `PORT` (127.0.0.1) and closes it and the store on SIGTERM. */
export async function serveBaseline(store: BaselineStore): Promise<void> {
  const estimator = await loadEstimator(process.env.FASTPACA_TOKEN_ESTIMATOR ?? 'tiktoken:gpt-4o');
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, keepAliveTimeout: 120_000 });
  const notFound = { error: 'not_found', message: 'context does not exist' };
  type Params = { Params: { id: string } };

  app.get('/health/ready', async () => ({ status: 'ready' }));
  app.put<Params>('/v1/contexts/:id', async (req) => {
    await store.put(req.params.id);
    return { id: req.params.id };
  });
  app.get<Params>('/v1/contexts/:id', async (req, reply) => {
    const last = await store.lastSeq(req.params.id);
    return last === undefined ? reply.code(404).send(notFound) : { id: req.params.id, last_seq: last };
  });
  app.post<Params & { Body: AppendBody }>(
    '/v1/contexts/:id/messages',
    { schema: appendSchema },
    async (req, reply) => {
      const input = req.body.message;
      const tokens = input.token_count ?? countMessage(estimator, input.parts);
      const seq = await store.append(req.params.id, {
        role: input.role,
        parts: input.parts,
        metadata: input.metadata ?? {},
        token_count: tokens,
      });
      if (seq === undefined) return reply.code(404).send(notFound);
      return reply.code(201).send({ seq, version: seq, token_estimate: tokens });
    },
  );
  app.get<Params>('/v1/contexts/:id/context', async (req, reply) => {
    const window = await store.window(req.params.id);
    return window ?? reply.code(404).send(notFound);
  });
  app.post<{ Body: { ids: string[]; count: number; seed: number } }>(
    '/bench/fill',
    { schema: fillSchema },
    async (req) => {
      const generated = messages(req.body.seed, req.body.count).map((m) => ({
        ...m,
        metadata: {},
        token_count: countMessage(estimator, m.parts),
      }));
      await store.fill(req.body.ids, generated);
      return { filled: req.body.ids.length * req.body.count };
    },
  );

  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.on('SIGTERM', () => {
    void app
      .close()
      .then(() => store.close())
      .finally(() => process.exit(0));
  });
}

/** Keeps the newest messages (given newest first) whose running token sum fits `tokensMax`; returns them oldest first. */
export function fitNewest<T extends { token_count: number }>(
  newestFirst: T[],
  tokensMax: number,
): { messages: T[]; used_tokens: number } {
  let used = 0;
  let kept = 0;
  while (kept < newestFirst.length && used + newestFirst[kept]!.token_count <= tokensMax) {
    used += newestFirst[kept]!.token_count;
    kept++;
  }
  return { messages: newestFirst.slice(0, kept).reverse(), used_tokens: used };
}
