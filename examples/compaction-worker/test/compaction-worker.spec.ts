import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ContextHandle, createClient, type FastpacaClient, type Window } from '@fastpaca/sdk';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompactionEvent, CompactionWorker } from '../src/compaction-worker.js';
import { offlineSummarizer } from '../src/summarize.js';

const run = promisify(execFile);
const packageRoot = join(import.meta.dirname, '..');

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  // One token per character: a 30-character message is 30 tokens.
  server = await startServerProcess({ env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1' } });
  client = createClient({ baseUrl: server.url });
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

const line = (i: number) => ({
  role: i % 2 ? 'assistant' : 'user',
  parts: [{ type: 'text', text: `message ${String(i).padStart(3, '0')} ${'.'.repeat(18)}` }],
});

async function settled(ctx: ContextHandle, timeoutMs = 10_000): Promise<Window> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const window = await ctx.context();
    if (!window.needs_compaction) return window;
    if (Date.now() > deadline) throw new Error(`${ctx.id} still needs compaction`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const textOf = (m: { parts: { type: string; text?: unknown }[] }) =>
  m.parts.map((p) => String(p.text)).join('');

/**
 * The window is a summary followed by the newest messages of the log, every
 * one of them, in order: kept verbatim by a compaction or appended since.
 */
async function expectSummaryThenTail(ctx: ContextHandle, window: Window): Promise<void> {
  expect(window.segments[0]?.type).toBe('summary');
  expect(window.messages[0]?.metadata).toMatchObject({ summary: true });
  const verbatim = window.messages.filter((m) => m.metadata.summary !== true);
  expect(verbatim.length).toBeGreaterThan(0);
  const log = [];
  for await (const message of ctx.history()) log.push(message);
  expect(verbatim.map(textOf)).toEqual(log.slice(-verbatim.length).map(textOf));
}

describe('compaction worker – real server', () => {
  it('keeps every watched window under its trigger while messages arrive, losing none from the log or the window', async () => {
    const events: CompactionEvent[] = [];
    const worker = new CompactionWorker({
      client,
      summarize: offlineSummarizer(2),
      keepRecent: 2,
      onCompacted: (e) => events.push(e),
      onError: (id, error) => {
        throw new Error(`${id}: ${error.message}`);
      },
    });
    const contexts = await Promise.all(
      ['a', 'b'].map((name) =>
        client.context(`worker-${name}-${Date.now()}`, {
          budget: 600,
          trigger: 0.5,
          policy: { strategy: 'manual' },
        }),
      ),
    );
    await Promise.all(contexts.map((ctx) => worker.watch(ctx.id)));
    // Three batches of 360 tokens, each over the 300-token trigger. Within a batch, appends race the worker's
    // compactions: a swap that loses the race conflicts on `ifVersion` and is retried on the newer window.
    for (let batch = 0; batch < 3; batch++) {
      await Promise.all(
        contexts.map(async (ctx) => {
          for (let i = batch * 12 + 1; i <= batch * 12 + 12; i++) await ctx.append(line(i));
        }),
      );
      await Promise.all(contexts.map((ctx) => settled(ctx)));
    }
    for (const ctx of contexts) {
      const window = await settled(ctx);
      expect(window.used_tokens).toBeLessThanOrEqual(300);
      await expectSummaryThenTail(ctx, window);
      const log = [];
      for await (const message of ctx.history()) log.push(message);
      expect(log.map((m) => m.seq)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
      expect(events.filter((e) => e.contextId === ctx.id).length).toBeGreaterThanOrEqual(3);
    }
    for (const e of events) expect(e.usedTokensAfter).toBeLessThan(e.usedTokensBefore);
    await worker.close();
  });

  it('compacts a context that is already over its trigger as soon as it is watched', async () => {
    const ctx = await client.context(`worker-late-${Date.now()}`, {
      budget: 600,
      trigger: 0.5,
      policy: { strategy: 'manual' },
    });
    for (let i = 1; i <= 12; i++) await ctx.append(line(i));
    expect((await ctx.context()).needs_compaction).toBe(true);
    const worker = new CompactionWorker({ client, summarize: offlineSummarizer(2), keepRecent: 1 });
    await worker.watch(ctx.id);
    const window = await settled(ctx);
    await expectSummaryThenTail(ctx, window);
    await worker.close();
  });

  it('runs offline exactly as the README says, with its own throwaway store', async () => {
    const env = { ...process.env };
    delete env.FASTPACA_URL;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: packageRoot,
      env,
    });
    const done = /done: (\d+) compactions\./.exec(stdout);
    expect(Number(done?.[1])).toBeGreaterThanOrEqual(3);
    expect(stdout).toMatch(
      /24 messages in the log, \d+ in the window, \d+\/300 tokens, needs_compaction false/,
    );
  });
});
