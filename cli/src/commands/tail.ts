import { limits } from '@fastpaca/contract';
import { contextId, intOption, takePositionals } from '../args.js';
import { formatMessage } from '../output.js';
import type { Command } from './command.js';

export const tailCommand: Command = {
  name: 'tail',
  args: '<id>',
  summary: 'Show the newest messages of the log, oldest of them first',
  options: {
    limit: {
      type: 'string',
      value: '<n>',
      description: `Messages to show, 1–${limits.page_limit_max} (default 20)`,
    },
    offset: { type: 'string', value: '<n>', description: 'Skip this many newest messages first (default 0)' },
  },
  examples: ['fastpaca tail chat-42', 'fastpaca tail chat-42 --limit 5 --offset 5 --json'],
  async run({ values, positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const limit = intOption(values, 'limit', { min: 1, max: limits.page_limit_max }) ?? 20;
    const offset = intOption(values, 'offset', { min: 0 }) ?? 0;
    const { messages } = await client().contextHandle(contextId(raw!)).getTail({ limit, offset });
    await out.result({ messages }, () =>
      messages.length === 0 ? '(no messages)' : messages.map(formatMessage).join('\n'),
    );
  },
};
