import { createClient } from '@fastpaca/sdk';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';
import { CompactionWorker } from './compaction-worker.js';
import { offlineSummarizer } from './summarize.js';

/**
 * Two modes:
 * - `--watch <id>…`: compacts those contexts of FASTPACA_URL until Ctrl-C;
 * - no arguments: a self-contained demo. Three support chats (manual policy,
 *   small budgets) get messages while the worker keeps their windows in
 *   budget; a throwaway local store is started unless FASTPACA_URL is set.
 */
const lines = [
  'Hi, my order has not arrived yet. It was supposed to come on Monday.',
  'Sorry to hear that! Could you share the order number so I can look it up?',
  'Sure, it is 48213. I ordered the blue backpack and a water bottle.',
  'Thanks. I see the parcel left our warehouse on Friday and is with the courier.',
  'Can you tell me when it will arrive? I need it before my trip on Thursday.',
  'The courier estimates Wednesday. I have asked them to prioritise it for you.',
  'Great, and if it does not arrive in time, can I get a refund?',
  'Yes. If it misses Wednesday, reply here and we will refund you in full.',
];

async function demo(baseUrl: string, apiKey: string | undefined): Promise<void> {
  const client = createClient({ baseUrl, apiKey });
  const run = Date.now().toString(36);
  const ids = ['alice', 'bob', 'carol'].map((name) => `support-${name}-${run}`);
  const contexts = await Promise.all(
    ids.map((id) => client.context(id, { budget: 300, trigger: 0.7, policy: { strategy: 'manual' } })),
  );
  let compactions = 0;
  const worker = new CompactionWorker({
    client,
    summarize: offlineSummarizer(4),
    keepRecent: 2,
    onCompacted: (e) => {
      compactions++;
      console.log(
        `  ${e.contextId}: compacted ${e.summarized} messages into a summary, ${e.usedTokensBefore} → ${e.usedTokensAfter} tokens (version ${e.version})`,
      );
    },
    onError: (id, error) => console.error(`  ${id}: ${error.message}`),
  });
  await Promise.all(ids.map((id) => worker.watch(id)));
  console.log(`watching ${ids.length} contexts on ${baseUrl} (budget 300 tokens, compaction above 210)`);

  // Three conversations, interleaved, three rounds of the script each.
  for (let round = 0; round < 3; round++) {
    for (const [i, line] of lines.entries()) {
      for (const ctx of contexts) {
        await ctx.append({ role: i % 2 === 0 ? 'user' : 'assistant', parts: [{ type: 'text', text: line }] });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  // Let the last compactions land before reporting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await worker.close();

  for (const ctx of contexts) {
    const [info, window] = await Promise.all([ctx.get(), ctx.context()]);
    console.log(
      `${ctx.id}: ${info.last_seq} messages in the log, ${window.messages.length} in the window, ${window.used_tokens}/${info.token_budget} tokens, needs_compaction ${window.needs_compaction}`,
    );
  }
  console.log(`done: ${compactions} compactions.`);
}

async function watchForever(baseUrl: string, apiKey: string | undefined, ids: string[]): Promise<void> {
  const worker = new CompactionWorker({
    client: createClient({ baseUrl, apiKey }),
    summarize: offlineSummarizer(),
    onCompacted: (e) =>
      console.log(
        `${e.contextId}: ${e.summarized} messages summarized, ${e.usedTokensBefore} → ${e.usedTokensAfter} tokens`,
      ),
    onError: (id, error) => console.error(`${id}: ${error.message}`),
  });
  await Promise.all(ids.map((id) => worker.watch(id)));
  console.log(`watching ${ids.join(', ')} on ${baseUrl}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await worker.close();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const apiKey = process.env.FASTPACA_API_KEY || undefined;
  if (args[0] === '--watch') {
    const ids = args.slice(1);
    const url = process.env.FASTPACA_URL;
    if (!url || ids.length === 0)
      throw new Error('usage: FASTPACA_URL=http://… npm start -- --watch <context-id>…');
    await watchForever(url, apiKey, ids);
    return;
  }
  let local: ServerProcess | undefined;
  let baseUrl = process.env.FASTPACA_URL;
  if (!baseUrl) {
    local = await startServerProcess();
    baseUrl = local.url;
  }
  try {
    await demo(baseUrl, apiKey);
  } finally {
    await local?.stop();
    local?.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
