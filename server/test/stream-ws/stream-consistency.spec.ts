import type { Message, StreamServerFrame } from '@fastpaca/contract';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient } from '../http/client.js';
import { RecordingSubscriber, type Session, type VersionGroup } from './recording-subscriber.js';
import { sleep } from './stream-client.js';

/*
 * Concurrent writers append (and some compact) while real websocket
 * subscribers connect, drop and reconnect from their last complete version.
 * Afterwards every subscriber must have received exactly the committed
 * sequence: each version once, in order, with no gap from its first cursor to
 * the final version, and message frames equal to what `/messages` returns.
 */

type Op =
  | { kind: 'append'; chars: number; role: 'user' | 'assistant' | 'tool'; delayMs: number }
  | { kind: 'compact'; keep: number; delayMs: number };

interface ContextSpec {
  strategy: 'last_n' | 'manual';
  limit: number;
  budget: number;
}

interface WriterSpec {
  context: number;
  ops: Op[];
}

interface SessionSpec {
  connectedMs: number;
  pauseMs: number;
  abrupt: boolean;
  includeMessages: boolean;
}

interface SubscriberSpec {
  context: number;
  startMs: number;
  fromStart: boolean;
  sessions: SessionSpec[];
}

interface Scenario {
  contexts: ContextSpec[];
  writers: WriterSpec[];
  subscribers: SubscriberSpec[];
}

type Ack = { kind: 'append'; seq: number } | { kind: 'compact' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      chars: fc.integer({ min: 1, max: 60 }),
      role: fc.constantFrom('user' as const, 'assistant' as const, 'tool' as const),
      delayMs: fc.integer({ min: 0, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('compact' as const),
      keep: fc.integer({ min: 0, max: 2 }),
      delayMs: fc.integer({ min: 0, max: 8 }),
    }),
  },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .array(
    fc.record({
      strategy: fc.constantFrom('last_n' as const, 'manual' as const),
      limit: fc.integer({ min: 2, max: 6 }),
      budget: fc.integer({ min: 40, max: 400 }),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .chain((contexts) => {
    const contextIndex = fc.integer({ min: 0, max: contexts.length - 1 });
    return fc.record({
      contexts: fc.constant(contexts),
      writers: fc.array(
        fc.record({ context: contextIndex, ops: fc.array(opArb, { minLength: 5, maxLength: 40 }) }),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      subscribers: fc.array(
        fc.record({
          context: contextIndex,
          startMs: fc.integer({ min: 0, max: 60 }),
          fromStart: fc.boolean(),
          sessions: fc.array(
            fc.record({
              connectedMs: fc.integer({ min: 0, max: 80 }),
              pauseMs: fc.integer({ min: 0, max: 30 }),
              abrupt: fc.boolean(),
              includeMessages: fc.boolean(),
            }),
            { minLength: 1, maxLength: 4 },
          ),
        }),
        { minLength: 2, maxLength: 8 },
      ),
    });
  });

const SESSIONS_PER_SUBSCRIBER_MAX = 40;
let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;
let run = 0;
/** What the runs exercised, printed at the end so a weakened generator shows. */
const coverage = { runs: 0, sessions: 0, checkedVersions: 0, withoutMessages: 0 };

beforeAll(async () => {
  server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1' } });
  api = jsonClient(server.url);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

async function allMessages(contextId: string): Promise<Message[]> {
  const out: Message[] = [];
  let after = 0;
  for (let page = 0; page < 1_000; page++) {
    const res = await api.get(`/v1/contexts/${contextId}/messages?after_seq=${after}&limit=100`);
    expect(res.status).toBe(200);
    const messages = res.body.messages as Message[];
    if (messages.length === 0) return out;
    out.push(...messages);
    after = messages.at(-1)!.seq;
  }
  throw new Error('too many pages');
}

async function runWriter(contextId: string, ops: Op[], acks: Map<number, Ack>): Promise<void> {
  for (const [i, op] of ops.entries()) {
    if (op.delayMs > 0) await sleep(op.delayMs);
    if (op.kind === 'append') {
      const res = await api.post(`/v1/contexts/${contextId}/messages`, {
        message: { role: op.role, parts: [{ type: 'text', text: `${i}:`.padEnd(op.chars, 'w') }] },
      });
      expect(res.status).toBe(201);
      expect(acks.has(res.body.version)).toBe(false);
      acks.set(res.body.version, { kind: 'append', seq: res.body.seq });
    } else {
      const replacement = Array.from({ length: op.keep }, (_, k) => ({
        role: 'system',
        parts: [{ type: 'text', text: `summary ${i}.${k}` }],
      }));
      const res = await api.post(`/v1/contexts/${contextId}/compact`, { replacement });
      expect(res.status).toBe(200);
      expect(acks.has(res.body.version)).toBe(false);
      acks.set(res.body.version, { kind: 'compact' });
    }
  }
}

/** Drives one subscriber through its sessions (cycling) until the writers are done. */
async function runSubscriber(
  sub: RecordingSubscriber,
  spec: SubscriberSpec,
  writersDone: () => boolean,
): Promise<void> {
  for (let i = 0; i < SESSIONS_PER_SUBSCRIBER_MAX && !writersDone(); i++) {
    const session = spec.sessions[i % spec.sessions.length]!;
    await sub.connect(session.includeMessages);
    await sleep(session.connectedMs);
    await sub.disconnect(session.abrupt);
    await sleep(session.pauseMs);
  }
}

/** Checks that hold for every connection on its own. */
function checkSession(session: Session): void {
  expect(session.invalid).toEqual([]);
  const unexpected = session.frames.filter(
    (f) => !['message', 'compaction', 'context', 'ping'].includes(f.type),
  );
  expect(unexpected).toEqual([]);
  // The first event is after the cursor; versions never go backwards; a version's frames share it.
  let last = session.cursor + 1;
  for (const f of session.frames) {
    if (f.type === 'ping') continue;
    expect(f.version).toBeGreaterThanOrEqual(last);
    last = f.type === 'context' ? f.version + 1 : f.version;
  }
  if (session.close) expect([1000, 1005, 1006]).toContain(session.close.code);
}

const visible = (frames: StreamServerFrame[], includeMessages: boolean) =>
  includeMessages ? frames : frames.filter((f) => f.type !== 'message');

async function checkContext(
  contextId: string,
  acks: Map<number, Ack>,
  reference: RecordingSubscriber,
  subscribers: RecordingSubscriber[],
): Promise<void> {
  const finalVersion = acks.size;
  // Writers are the only source of versions here: together they acknowledged 1..final.
  expect([...acks.keys()].sort((a, b) => a - b)).toEqual(
    Array.from({ length: finalVersion }, (_, i) => i + 1),
  );
  const context = (await api.get(`/v1/contexts/${contextId}`)).body;
  expect(context.version).toBe(finalVersion);
  const messages = new Map((await allMessages(contextId)).map((m) => [m.seq, m]));

  // The reference subscriber saw everything from version 0; check it against the REST truth.
  const truth = new Map<number, StreamServerFrame[]>();
  for (const group of reference.groups()) truth.set(group.version, group.frames);
  expect([...truth.keys()]).toEqual(Array.from({ length: finalVersion }, (_, i) => i + 1));
  for (const [version, frames] of truth) {
    const ack = acks.get(version)!;
    const types = frames.map((f) => f.type);
    // A version is: message frames, then at most one compaction, then exactly one context frame.
    expect(types.at(-1)).toBe('context');
    expect(types.filter((t) => t === 'context')).toHaveLength(1);
    expect(types.filter((t) => t === 'compaction').length).toBeLessThanOrEqual(1);
    expect(types).toEqual([...types].sort((a, b) => order(a) - order(b)));
    const messageFrames = frames.filter((f) => f.type === 'message');
    if (ack.kind === 'append') {
      expect(messageFrames.map((f) => f.seq)).toEqual([ack.seq]);
      const frame = messageFrames[0]!;
      if (frame.type === 'message') {
        expect(frame.message.seq).toBe(ack.seq);
        expect(frame.message).toEqual(messages.get(ack.seq));
      }
    } else {
      expect(messageFrames).toEqual([]);
      expect(types).toContain('compaction');
    }
  }
  expect(messages.size).toBe([...acks.values()].filter((a) => a.kind === 'append').length);
  const window = (await api.get(`/v1/contexts/${contextId}/context`)).body;
  if (finalVersion > 0)
    expect(truth.get(finalVersion)?.at(-1)).toEqual({
      type: 'context',
      version: finalVersion,
      used_tokens: window.used_tokens,
      needs_compaction: window.needs_compaction,
    });

  for (const sub of [reference, ...subscribers]) {
    coverage.sessions += sub.sessions.length;
    coverage.withoutMessages += sub.sessions.filter((s) => !s.includeMessages).length;
    for (const session of sub.sessions) checkSession(session);
    const groups: VersionGroup[] = sub.groups();
    // Each version exactly once, in order, with no gap from the first cursor to the final version.
    expect(groups.map((g) => g.version)).toEqual(
      Array.from({ length: finalVersion - sub.firstCursor }, (_, i) => sub.firstCursor + 1 + i),
    );
    for (const group of groups) {
      expect(group.frames).toEqual(visible(truth.get(group.version)!, group.includeMessages));
    }
    coverage.checkedVersions += groups.length;
  }
}

const order = (type: string) => ({ message: 0, compaction: 1, context: 2 })[type] ?? 3;

async function runScenario(scenario: Scenario): Promise<void> {
  run++;
  coverage.runs++;
  const ids = scenario.contexts.map((_, i) => `prop-${run}-${i}`);
  for (const [i, spec] of scenario.contexts.entries()) {
    const res = await api.put(`/v1/contexts/${ids[i]}`, {
      token_budget: spec.budget,
      policy:
        spec.strategy === 'manual'
          ? { strategy: 'manual', config: {} }
          : { strategy: 'last_n', config: { limit: spec.limit } },
    });
    expect(res.status).toBe(200);
  }
  const acks = ids.map(() => new Map<number, Ack>());
  const references = await Promise.all(
    ids.map(async (id) => {
      const ref = new RecordingSubscriber(server.url, id, 0);
      await ref.connect(true);
      return ref;
    }),
  );
  const subscribers: RecordingSubscriber[] = [];
  const contextOf = new Map<RecordingSubscriber, number>();
  let writersDone = false;
  const writers = Promise.all(
    scenario.writers.map((w) => runWriter(ids[w.context]!, w.ops, acks[w.context]!)),
  ).finally(() => {
    writersDone = true;
  });
  const readers = Promise.all(
    scenario.subscribers.map(async (spec) => {
      await sleep(spec.startMs);
      const id = ids[spec.context]!;
      const cursor = spec.fromStart ? 0 : (await api.get(`/v1/contexts/${id}`)).body.version;
      const sub = new RecordingSubscriber(server.url, id, cursor);
      subscribers.push(sub);
      contextOf.set(sub, spec.context);
      await runSubscriber(sub, spec, () => writersDone);
    }),
  );
  await Promise.all([writers, readers]);

  // Everyone catches up to the final version, then disconnects.
  await Promise.all(
    [
      ...references.map((r, i) => ({ sub: r, context: i })),
      ...subscribers.map((s) => ({ sub: s, context: contextOf.get(s)! })),
    ].map(async ({ sub, context }) => {
      await sub.catchUp(acks[context]!.size, true);
      await sub.disconnect(false);
    }),
  );
  for (const [i, id] of ids.entries()) {
    await checkContext(
      id,
      acks[i]!,
      references[i]!,
      subscribers.filter((s) => contextOf.get(s) === i),
    );
  }
}

describe('stream consistency – concurrent writers and reconnecting subscribers', () => {
  it('every subscriber receives exactly the committed sequence from its first cursor', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        await runScenario(scenario);
      }),
      { seed: 42, numRuns: 100, endOnFailure: true, interruptAfterTimeLimit: 50_000 },
    );
    console.log(
      `stream consistency: ${coverage.runs} runs, ${coverage.sessions} connections ` +
        `(${coverage.withoutMessages} without messages), ${coverage.checkedVersions} versions checked`,
    );
    expect(coverage.runs).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
