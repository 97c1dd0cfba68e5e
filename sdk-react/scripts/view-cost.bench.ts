/**
 * What one streamed token of a reply costs the message view, by history
 * length: a local draft row changes, the list rows are rebuilt
 * (`MessageViewBuilder`) and turned into chat rows (`toChatMessages`), as
 * `useFastpacaChat` does per token before React renders. Costs should not
 * grow with the loaded history.
 *
 *   npx tsx scripts/view-cost.bench.ts
 */
import type { Message } from '@fastpaca/sdk';
import { ChatRowsBuilder, toChatMessages } from '../src/core/chat-messages.js';
import type { LocalMessage } from '../src/core/context-state.js';
import { MessageViewBuilder } from '../src/core/message-view.js';

function history(count: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: i + 1,
    role: i % 2 === 0 ? 'user' : 'assistant',
    parts: [{ type: 'text', text: `message ${i + 1}` }],
    metadata: { ui_message_id: `m${i + 1}` },
    token_count: 3,
    inserted_at: '2026-01-01T00:00:00.000Z',
  }));
}

/**
 * `incremental`: what the hook does. `full`: every row walked and converted
 * per token (the cost before the builders kept their last result), forced by
 * a fresh adopted-keys map and a one-shot `toChatMessages`.
 */
function perToken(count: number, tokens: number, mode: 'incremental' | 'full'): number {
  const builder = new MessageViewBuilder();
  const chatRows = new ChatRowsBuilder();
  const log = history(count);
  let adopted = new Map<number, string>();
  const view = () => {
    if (mode === 'full') {
      adopted = new Map();
      return toChatMessages(builder.build(log, draft(), adopted));
    }
    return chatRows.build(builder.build(log, draft(), adopted));
  };
  let text = '';
  const draft = (): LocalMessage[] => [
    {
      id: 'reply',
      role: 'assistant',
      parts: [{ type: 'text', text }],
      metadata: { ui_message_id: 'reply' },
      seq: null,
      state: 'streaming',
      uiMessageId: 'reply',
    },
  ];
  // Warm up: the first build converts every row once.
  chatRows.build(builder.build(log, draft(), adopted));
  const started = process.hrtime.bigint();
  for (let i = 0; i < tokens; i++) {
    text += 'word ';
    view();
  }
  return Number(process.hrtime.bigint() - started) / tokens / 1_000;
}

const median = (f: () => number) => [f(), f(), f()].sort((a, b) => a - b)[1]!;
console.log('loaded messages | µs per token, full | µs per token, incremental | ratio');
for (const count of [100, 1_000, 10_000]) {
  const full = median(() => perToken(count, 1_000, 'full'));
  const incremental = median(() => perToken(count, 1_000, 'incremental'));
  console.log(
    `${String(count).padStart(15)} | ${full.toFixed(1).padStart(18)} | ${incremental.toFixed(1).padStart(25)} | ${(full / incremental).toFixed(1)}×`,
  );
}
