import { limits } from '@fastpaca/contract';
import type { Window } from '@fastpaca/sdk';
import { contextId, intOption, takePositionals } from '../args.js';
import { formatMessage } from '../output.js';
import type { Command } from './command.js';

function formatWindow(window: Window): string {
  const segments = window.segments.map((s) => `${s.type} ${s.from_seq}–${s.to_seq}`).join(', ');
  const header = [
    `version ${window.version}`,
    `${window.messages.length} message(s)`,
    `${window.used_tokens} tokens used`,
    window.needs_compaction ? 'needs compaction' : 'within budget',
  ].join(' · ');
  return [header, `segments: ${segments || 'none'}`, ...window.messages.map(formatMessage)].join('\n');
}

export const windowCommand: Command = {
  name: 'window',
  args: '<id>',
  summary: 'Show the LLM window: the messages to send to the model, and their tokens',
  options: {
    'budget-tokens': {
      type: 'string',
      value: '<n>',
      description: 'Trim this copy to fit n tokens (oldest first; stored state is unchanged)',
    },
  },
  examples: ['fastpaca window chat-42', 'fastpaca window chat-42 --budget-tokens 2000 --json'],
  async run({ values, positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const budgetTokens = intOption(values, 'budget-tokens', { min: 1, max: limits.token_budget_max });
    const window = await client()
      .contextHandle(contextId(raw!))
      .context(budgetTokens === undefined ? {} : { budgetTokens });
    await out.result(window, () => formatWindow(window));
  },
};
