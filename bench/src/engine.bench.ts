/**
 * Context engine micro-benchmark. Shows that append, window reads and log
 * paging cost the same with 1k or 100k messages of history (same window
 * size, `last_n` policy), and measures snapshot size and snapshot/restore time
 * for a group of 1,000 contexts × 1,000 messages. Prints markdown tables.
 *
 *   npm run bench:engine            (from the repository root)
 */
import { ContextGroup, loadEstimator, type PreparedMessage } from '../../server/src/context/index.js';
import { machineLine, measurePair, timed } from './measure.js';

/** Several contexts per history size, used round-robin, so the measured appends barely grow each one. */
const contexts_per_size = 20;
const message_tokens = 75;
/** 20,000 × 0.75 = 15,000 tokens = a steady window of 200 messages of 75 tokens. */
const token_budget = 20_000;
const trigger_ratio = 0.75;
const window_limit = 200;

const text300 =
  'The assistant looked up the order status, found that the parcel left the warehouse yesterday ' +
  'and is expected to arrive on Thursday. It offered to send tracking updates by email and asked ' +
  'whether the customer wanted to change the delivery address before the courier picks it up. ok.';

function message(i: number): PreparedMessage {
  return {
    role: i % 2 === 0 ? 'user' : 'assistant',
    parts: [{ type: 'text', text: `${i} ${text300}`.slice(0, 300) }],
    metadata: {},
    token_count: message_tokens,
  };
}

let clock = 1_700_000_000_000;

function fill(group: ContextGroup, id: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const applied = group.apply({ type: 'append', id, at: clock++, messages: [message(i)] });
    if (!applied.result.ok) throw new Error(applied.result.error.message);
  }
}

interface Scenario {
  group: ContextGroup;
  ids: string[];
  history: number;
}

function scenario(history: number): Scenario {
  const group = new ContextGroup();
  const ids = Array.from({ length: contexts_per_size }, (_, i) => `ctx-${i}`);
  for (const id of ids) {
    group.apply({
      type: 'put_context',
      id,
      at: clock,
      token_budget,
      trigger_ratio,
      policy: { strategy: 'last_n', config: { limit: window_limit } },
    });
    fill(group, id, history);
  }
  const window = group.window(ids[0]!)!;
  if (window.messages.length !== window_limit)
    throw new Error(`window holds ${window.messages.length} messages`);
  return { group, ids, history };
}

type Op = (s: Scenario, i: number) => unknown;

const appendMessage = message(7);
const operations: [string, Op][] = [
  [
    'append (1 message; the policy drops 1)',
    (s, i) =>
      s.group.apply({ type: 'append', id: s.ids[i % s.ids.length]!, at: clock++, messages: [appendMessage] }),
  ],
  ['window()', (s, i) => s.group.window(s.ids[i % s.ids.length]!)],
  [
    'window({ budget_tokens: 5000 })',
    (s, i) => s.group.window(s.ids[i % s.ids.length]!, { budget_tokens: 5_000 }),
  ],
  ['tail(offset 0, limit 100)', (s, i) => s.group.tail(s.ids[i % s.ids.length]!, 0, 100)],
  ['tail(offset history/2, limit 100)', (s, i) => s.group.tail(s.ids[i % s.ids.length]!, s.history / 2, 100)],
  [
    'messagesAfter(history/2, limit 100)',
    (s, i) => s.group.messagesAfter(s.ids[i % s.ids.length]!, s.history / 2, 100),
  ],
];

const fmt = (n: number) => n.toLocaleString('en', { maximumFractionDigits: 0 });

function historyTable(): void {
  const small = scenario(1_000);
  const large = scenario(100_000);
  const rows = operations.map(([name, op]) => {
    const [a, b] = measurePair(
      (i) => op(small, i),
      (i) => op(large, i),
    );
    return { name, a, b };
  });
  const grown = (s: Scenario) => s.group.getContext(s.ids[0]!)!.last_seq;
  console.log(
    `Window: ${window_limit} messages of ${message_tokens} tokens (last_n, threshold ${token_budget * trigger_ratio} tokens). ` +
      `${contexts_per_size} contexts per history size, used round-robin; both groups live in one process and ` +
      `their batches alternate (31 batches × 1,000 operations each, after 2,000 warm-up operations; median reported). ` +
      `History per context while measuring: ${fmt(small.history)} → ${fmt(grown(small))} and ` +
      `${fmt(large.history)} → ${fmt(grown(large))} messages.\n`,
  );
  console.log('| operation | 1k history (ns/op) | 100k history (ns/op) | ratio 100k/1k |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const { name, a, b } of rows)
    console.log(`| ${name} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(2)}× |`);
}

async function snapshotTable(): Promise<void> {
  const contexts = 1_000;
  const perContext = 1_000;
  let group: ContextGroup | null = new ContextGroup();
  for (let c = 0; c < contexts; c++) {
    const id = `ctx-${c}`;
    group.apply({ type: 'put_context', id, at: clock, token_budget, trigger_ratio });
    fill(group, id, perContext);
  }
  const first = await timed(() => group!.snapshot());
  const steady = await timed(() => group!.snapshot());
  const bytes = steady.value;
  // A restarting node holds only the snapshot, not the group it came from.
  group = null;
  const restore = await timed(() => ContextGroup.restore(bytes));
  const again = restore.value.snapshot();
  if (!Buffer.from(again).equals(Buffer.from(bytes)))
    throw new Error('restored group re-encodes differently');

  const row = (label: string, t: { ms: number; gc_ms: number }) =>
    console.log(`| ${label} | ${fmt(t.ms)} ms (${fmt(t.gc_ms)} ms of it in GC) |`);
  console.log(
    `\n| snapshot of ${fmt(contexts)} contexts × ${fmt(perContext)} messages (~300 B of text each) | value |`,
  );
  console.log('| --- | ---: |');
  console.log(
    `| size | ${(bytes.length / 1e6).toFixed(1)} MB (${fmt(bytes.length / (contexts * perContext))} B/message) |`,
  );
  row('first snapshot()', first);
  row('later snapshot() (buffer sized from the previous one)', steady);
  row('restore() into a process without the source group', restore);
}

async function tokenTable(): Promise<void> {
  const estimator = await loadEstimator('tiktoken:gpt-4o');
  const texts = Array.from({ length: 64 }, (_, i) => `${i} ${text300}`.slice(0, 300));
  const chars = await loadEstimator('chars:4');
  const [tiktoken, cheap] = measurePair(
    (i) => estimator.countText(texts[i % texts.length]!),
    (i) => chars.countText(texts[i % texts.length]!),
    { batches: 11 },
  );
  console.log('\n| token estimator, 300-byte message | ns/op |\n| --- | ---: |');
  console.log(`| tiktoken:gpt-4o (gpt-tokenizer, o200k_base) | ${fmt(tiktoken)} |`);
  console.log(`| chars:4 | ${fmt(cheap)} |`);
}

console.log(`# Context engine micro-benchmark\n\n${machineLine()}\n`);
historyTable();
await snapshotTable();
await tokenTable();
