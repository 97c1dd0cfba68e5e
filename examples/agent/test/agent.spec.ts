import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type FastpacaClient, type Message, toUIMessages } from '@fastpaca/sdk';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';
import { convertToModelMessages, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../src/agent.js';
import { citiesIn, FakeModel } from '../src/fake-model.js';
import { averageHigh, weather } from '../src/tools.js';

const run = promisify(execFile);
const packageRoot = join(import.meta.dirname, '..');

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServerProcess();
  client = createClient({ baseUrl: server.url });
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe('agent – tool loop with manual compaction', () => {
  it('answers from every tool result, compacting its window on the way, with the whole log kept', async () => {
    const task =
      'Compare the weather this week in Lisbon, Porto, Madrid, Seville, Rome, Paris, Berlin and Oslo.';
    const ctx = await client.context(`agent-test-${Date.now()}`, {
      budget: 1_500,
      trigger: 0.7,
      policy: { strategy: 'manual' },
    });
    const result = await runAgent(task, { ctx, model: new FakeModel() });

    const cities = citiesIn(task);
    expect(cities).toHaveLength(8);
    const warmest = [...cities].sort(
      (a, b) => averageHigh(weather({ city: b })) - averageHigh(weather({ city: a })),
    )[0]!;
    expect(result.answer).toContain(
      `Warmest this week: ${warmest} (average high ${averageHigh(weather({ city: warmest })).toFixed(1)}°C)`,
    );
    for (const city of cities) expect(result.answer).toContain(city);
    expect(result.toolCalls).toBe(8);
    expect(result.compactions).toBeGreaterThanOrEqual(1);

    // The log was never rewritten: the task, one message per step (its calls with their results), the answer.
    const log: Message[] = [];
    for await (const message of ctx.history()) log.push(message);
    expect(log.map((m) => m.role)).toEqual([
      'user',
      ...Array.from({ length: 4 }, () => 'assistant'),
      'assistant',
    ]);
    for (const step of log.slice(1, 5)) {
      expect(step.parts.map((part) => [part.type, part.state])).toEqual([
        ['tool-weather', 'output-available'],
        ['tool-weather', 'output-available'],
      ]);
    }
    // And it is AI SDK data as it stands: every call comes back to the model with its result.
    const model = await convertToModelMessages(toUIMessages<UIMessage>(log));
    expect(model.map((m) => m.role)).toEqual([
      'user',
      ...Array.from({ length: 4 }, () => ['assistant', 'tool']).flat(),
      'assistant',
    ]);

    // The window starts with the summary; the newest step is kept whole.
    const window = await ctx.context();
    expect(window.segments[0]?.type).toBe('summary');
    expect(window.messages[0]?.metadata).toMatchObject({ summary: true });
    expect(window.used_tokens).toBeLessThanOrEqual(1_500);
  });

  it('runs offline exactly as the README says, with its own throwaway store', async () => {
    const env = { ...process.env };
    delete env.FASTPACA_URL;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: packageRoot,
      env,
    });
    expect(stdout).toMatch(/done in \d+ steps, 8 tool calls, [1-9]\d* compaction\(s\)\./);
    expect(stdout).toContain('Warmest this week:');
  });
});
