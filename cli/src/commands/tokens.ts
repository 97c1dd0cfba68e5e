import { limits } from '@fastpaca/contract';
import type { TokenRight } from '@fastpaca/sdk';
import { contextId, durationOption, listOption, takePositionals, UsageError } from '../args.js';
import type { Command } from './command.js';

const rights: readonly TokenRight[] = ['read', 'append'];

function isRight(value: string): value is TokenRight {
  return (rights as readonly string[]).includes(value);
}

const create: Command = {
  name: 'tokens create',
  args: '<id>',
  summary: 'Mint a short-lived token scoped to one context (needs the API key)',
  details:
    'For browsers and other clients that must not hold the API key. `read` covers the GET routes and\n' +
    'the stream, `append` covers appends. The token alone goes to stdout (so TOKEN=$(fastpaca tokens\n' +
    'create …) works); its expiry goes to stderr. With --json: {"token","expires_at"}.',
  options: {
    rights: { type: 'string', value: '<list>', description: 'read, append or read,append (default read)' },
    ttl: {
      type: 'string',
      value: '<duration>',
      description: 'Lifetime: 600, 90s, 15m, 2h, 1d (default 1h, at most 1d)',
    },
  },
  examples: [
    'fastpaca tokens create chat-42',
    'fastpaca tokens create chat-42 --rights read,append --ttl 15m --json',
  ],
  async run({ values, positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const id = contextId(raw!);
    const wanted = listOption(values, 'rights') ?? ['read'];
    const invalid = wanted.find((right) => !isRight(right));
    if (invalid !== undefined || wanted.length === 0) {
      throw new UsageError(`--rights must list read and/or append, got '${invalid ?? ''}'`);
    }
    const ttlSeconds = durationOption(values, 'ttl');
    if (ttlSeconds !== undefined && ttlSeconds > limits.token_ttl_seconds_max) {
      throw new UsageError(`--ttl must be at most ${limits.token_ttl_seconds_max} seconds (1d)`);
    }
    const response = await client()
      .contextHandle(id)
      .createToken({
        rights: [...new Set(wanted.filter(isRight))],
        ...(ttlSeconds !== undefined && { ttlSeconds }),
      });
    if (!out.json) out.note(`expires at ${response.expires_at} (${wanted.join(', ')} on ${id})`);
    await out.result(response, () => response.token);
  },
};

export const tokenCommands: Command[] = [create];
