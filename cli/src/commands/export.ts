import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Message } from '@fastpaca/sdk';
import { contextId, intOption, stringOption, takePositionals, UsageError } from '../args.js';
import type { Command } from './command.js';

/** Messages per `/messages` request: the API's maximum, and all the tool holds in memory at once. */
const pageSize = 1_000;

interface Written {
  count: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

/** One JSON line per message, waiting whenever the destination is full. */
async function writeLines(messages: AsyncIterable<Message>, to: Writable): Promise<Written> {
  const written: Written = { count: 0, firstSeq: null, lastSeq: null };
  for await (const message of messages) {
    if (!to.write(`${JSON.stringify(message)}\n`)) await once(to, 'drain');
    written.count++;
    written.firstSeq ??= message.seq;
    written.lastSeq = message.seq;
  }
  return written;
}

/** Writes beside `path` and renames at the end, so an interrupted export never looks like a complete one. */
async function writeFileAtomically(path: string, messages: AsyncIterable<Message>): Promise<Written> {
  const temporary = `${path}.${process.pid}.tmp`;
  const file = createWriteStream(temporary, { flags: 'wx' });
  try {
    await once(file, 'open');
  } catch (error) {
    throw new UsageError(`cannot write --out ${path}: ${(error as Error).message}`);
  }
  try {
    const written = await writeLines(messages, file);
    file.end();
    await finished(file);
    await rename(temporary, path);
    return written;
  } catch (error) {
    file.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

export const exportCommand: Command = {
  name: 'export',
  args: '<id>',
  summary: 'Write the whole message log as JSON lines, oldest first',
  details:
    'One message per line, exactly as the API returns it: {"seq","role","parts","metadata",\n' +
    '"token_count","inserted_at"}. Pages through /messages (archive included) 1,000 at a time, so\n' +
    'memory stays flat however long the history. `fastpaca import` reads this format.',
  options: {
    out: {
      type: 'string',
      value: '<file>',
      description: 'Write to this file instead of stdout (complete or not at all)',
    },
    'after-seq': {
      type: 'string',
      value: '<n>',
      description: 'Only messages after seq n (to add to an earlier export)',
    },
  },
  examples: [
    'fastpaca export chat-42 > chat-42.jsonl',
    'fastpaca export chat-42 --out chat-42.jsonl',
    'fastpaca export chat-42 --after-seq 500 >> chat-42.jsonl',
  ],
  async run({ values, positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const id = contextId(raw!);
    const afterSeq = intOption(values, 'after-seq', { min: 0 }) ?? 0;
    const path = stringOption(values, 'out');
    const handle = client().contextHandle(id);
    // /messages of a context that does not exist may just be empty; a typo must not pass as an empty export.
    await handle.get();
    const messages = handle.history({ afterSeq, pageSize });
    if (path === undefined) {
      await writeLines(messages, out.stdout);
      return;
    }
    const written = await writeFileAtomically(path, messages);
    const range = written.count === 0 ? '' : ` (seq ${written.firstSeq}–${written.lastSeq})`;
    await out.result(
      {
        context: id,
        out: path,
        exported: written.count,
        first_seq: written.firstSeq,
        last_seq: written.lastSeq,
      },
      () => `exported ${written.count} message(s) of ${id} to ${path}${range}`,
    );
  },
};
