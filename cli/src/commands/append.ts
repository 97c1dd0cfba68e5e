import type { Readable } from 'node:stream';
import { limits } from '@fastpaca/contract';
import type { Part } from '@fastpaca/sdk';
import {
  contextId,
  intOption,
  jsonObjectOption,
  type OptionValues,
  stringOption,
  takePositionals,
  UsageError,
} from '../args.js';
import type { Command } from './command.js';

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** `--parts` as given: a JSON array of parts, each with a string `type` (the server checks the rest). */
function partsOption(values: OptionValues): Part[] | undefined {
  const raw = stringOption(values, 'parts');
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError('--parts must be a JSON array of parts');
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every((part) => part !== null && typeof part === 'object' && typeof part.type === 'string');
  if (!valid) throw new UsageError('--parts must be a non-empty JSON array of objects with a string "type"');
  return parsed as Part[];
}

export const appendCommand: Command = {
  name: 'append',
  args: '<id> [text...]',
  summary: 'Append a message (text from the arguments, else from stdin)',
  details:
    'The words after the id are joined with spaces; without any, the text is read from stdin (one\n' +
    'trailing newline dropped). Put `--` before text that starts with a dash. Every append carries an\n' +
    'idempotency key (yours with --key, else a random one), so the retries the tool makes never\n' +
    'append twice, and re-running with the same --key returns the first result.',
  options: {
    role: { type: 'string', value: '<role>', description: 'user, assistant, system, tool… (default user)' },
    key: {
      type: 'string',
      value: '<key>',
      description: 'Idempotency key: a repeat returns the first result',
    },
    'if-version': {
      type: 'string',
      value: '<n>',
      description: 'Append only if the context is at this version (else exit 4)',
    },
    metadata: { type: 'string', value: '<json>', description: "The message's metadata, a JSON object" },
    parts: { type: 'string', value: '<json>', description: 'The parts as a JSON array, instead of text' },
  },
  examples: [
    'fastpaca append chat-42 Hello there',
    'echo "What is the capital of France?" | fastpaca append chat-42',
    'fastpaca append chat-42 --role assistant --key turn-7 --if-version 12 -- "-1 is negative"',
    'fastpaca append chat-42 --parts \'[{"type":"data-weather","data":{"c":21}}]\'',
  ],
  async run({ values, positionals, out, client, stdin }) {
    const [raw, ...words] = takePositionals(positionals, ['<id>'], true);
    const id = contextId(raw!);
    const role = stringOption(values, 'role') ?? 'user';
    const key = stringOption(values, 'key');
    if (
      key !== undefined &&
      (key.length > limits.idempotency_key_length_max || !limits.idempotency_key_pattern.test(key))
    ) {
      throw new UsageError(`--key must be 1–${limits.idempotency_key_length_max} printable ASCII characters`);
    }
    const ifVersion = intOption(values, 'if-version', { min: 0 });
    const metadata = jsonObjectOption(values, 'metadata');
    let parts = partsOption(values);
    if (parts !== undefined && words.length > 0) throw new UsageError('give text or --parts, not both');
    if (parts === undefined) {
      if (words.length === 0 && stdin.isTTY) out.note('reading the message from stdin (end with Ctrl-D)');
      const text = words.length > 0 ? words.join(' ') : (await readAll(stdin)).replace(/\r?\n$/, '');
      if (text === '') throw new UsageError('the message is empty: give text or pipe it on stdin');
      parts = [{ type: 'text', text }];
    }
    const result = await client()
      .contextHandle(id)
      .append(
        { role, parts, ...(metadata !== undefined && { metadata }) },
        { ...(key !== undefined && { idempotencyKey: key }), ...(ifVersion !== undefined && { ifVersion }) },
      );
    await out.result(
      result,
      () =>
        `appended seq ${result.seq} (version ${result.version}, ${result.token_estimate} tokens)` +
        (result.replayed ? ': already appended with this key, nothing new' : ''),
    );
  },
};
