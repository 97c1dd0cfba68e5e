import { createClient } from '@fastpaca/sdk';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';
import { runAgent } from './agent.js';
import { FakeModel } from './fake-model.js';

const task = 'Compare the weather this week in Lisbon, Porto, Madrid, Seville, Rome, Paris, Berlin and Oslo.';

/**
 * Runs the agent once against FASTPACA_URL, or against a throwaway local
 * store when it is not set, and prints what happened.
 */
async function main(): Promise<void> {
  let local: ServerProcess | undefined;
  let baseUrl = process.env.FASTPACA_URL;
  if (!baseUrl) {
    local = await startServerProcess();
    baseUrl = local.url;
  }
  try {
    const client = createClient({ baseUrl, apiKey: process.env.FASTPACA_API_KEY || undefined });
    // `manual`: the store never trims this window; the agent compacts it itself when needs_compaction is set.
    const ctx = await client.context(`agent-${Date.now().toString(36)}`, {
      budget: 1_500,
      trigger: 0.7,
      policy: { strategy: 'manual' },
    });
    console.log(`context ${ctx.id} on ${baseUrl}`);
    const result = await runAgent(task, {
      ctx,
      model: new FakeModel(),
      log: (line) => console.log(`  ${line}`),
    });
    const info = await ctx.get();
    const window = await ctx.context();
    console.log(
      `done in ${result.steps} steps, ${result.toolCalls} tool calls, ${result.compactions} compaction(s).`,
    );
    console.log(
      `the log holds all ${info.last_seq} messages; the window holds ${window.messages.length} (${window.used_tokens} of ${info.token_budget} tokens).`,
    );
  } finally {
    await local?.stop();
    local?.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
