import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { limits } from '@fastpaca/contract';
import { type ContextHandle, NotFoundError } from '@fastpaca/sdk';
import { contextId, flag, intOption, stringOption, takePositionals, UsageError } from '../args.js';
import { batches, batchSizeMax, readLines } from '../import-lines.js';
import type { Command } from './command.js';
import { defaultBudget } from './contexts.js';

/** Opens `--in` up front, so a wrong path is a usage error before anything is appended. */
async function openInput(path: string | undefined, stdin: Readable): Promise<Readable> {
  if (path === undefined) return stdin;
  try {
    return (await open(path, 'r')).createReadStream();
  } catch (error) {
    throw new UsageError(`cannot read --in ${path}: ${(error as Error).message}`);
  }
}

/** Makes sure the target exists: created with `--create`, else not found (exit 3) with a hint. */
async function ensureContext(handle: ContextHandle, create: boolean, budget: number | undefined) {
  try {
    await handle.get();
  } catch (error) {
    if (!NotFoundError.isInstance(error)) throw error;
    if (!create) {
      throw new NotFoundError({ message: `context ${handle.id} does not exist; pass --create to create it` });
    }
    await handle.configure({ budget: budget ?? defaultBudget });
  }
}

export const importCommand: Command = {
  name: 'import',
  args: '<id>',
  summary: 'Append messages from JSON lines (the export format) to a context, in order',
  details:
    'Keeps role, parts, metadata and token_count (--recount lets the server count); seq and\n' +
    'inserted_at are assigned anew. Messages go in atomic turns of up to --batch messages (and\n' +
    '512 KiB), each with an idempotency key derived from its source seqs and content, so re-running an\n' +
    'interrupted import with the same input and flags appends nothing twice (the server remembers at\n' +
    'least the last 1,000 keys of a context, i.e. 100,000 messages at the default batch size, and\n' +
    'every key for 10 minutes; beyond that, resume with --after-seq). Lines are checked as they are\n' +
    'read: a bad line stops the import (exit 2) after the batches before it.',
  options: {
    in: { type: 'string', value: '<file>', description: 'Read this file instead of stdin' },
    create: { type: 'boolean', description: 'Create the context when it does not exist' },
    budget: {
      type: 'string',
      value: '<tokens>',
      description: `Token budget for --create (default ${defaultBudget})`,
    },
    batch: {
      type: 'string',
      value: '<n>',
      description: `Messages per atomic append, 1–${batchSizeMax} (default ${batchSizeMax})`,
    },
    'after-seq': { type: 'string', value: '<n>', description: 'Skip source messages up to seq n' },
    recount: { type: 'boolean', description: 'Drop token_count so the server counts with its estimator' },
  },
  examples: [
    'fastpaca export chat-42 | fastpaca import chat-42-copy --create',
    'fastpaca import chat-42 --in chat-42.jsonl --create --budget 16000',
  ],
  async run({ values, positionals, out, client, stdin }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const id = contextId(raw!);
    const batchSize = intOption(values, 'batch', { min: 1, max: batchSizeMax }) ?? batchSizeMax;
    const afterSeq = intOption(values, 'after-seq', { min: 0 }) ?? 0;
    const budget = intOption(values, 'budget', { min: 1, max: limits.token_budget_max });
    if (budget !== undefined && !flag(values, 'create')) {
      throw new UsageError('--budget applies with --create');
    }
    const path = stringOption(values, 'in');
    const input = await openInput(path, stdin);
    if (path === undefined && stdin.isTTY) out.note('reading JSON lines from stdin (end with Ctrl-D)');

    const handle = client().contextHandle(id);
    await ensureContext(handle, flag(values, 'create'), budget);
    const totals = {
      imported: 0,
      replayed: 0,
      first_seq: null as number | null,
      last_seq: null as number | null,
      /** Where a later import of the grown source continues: `export --after-seq <it> | import`. */
      source_last_seq: null as number | null,
    };
    try {
      const lines = readLines(input, { recount: flag(values, 'recount'), afterSeq });
      for await (const batch of batches(lines, batchSize)) {
        const result = await handle.appendTurn(batch.messages, { idempotencyKey: batch.idempotencyKey });
        totals[result.replayed ? 'replayed' : 'imported'] += batch.messages.length;
        totals.first_seq ??= result.first_seq;
        totals.last_seq = result.seq;
        totals.source_last_seq = batch.sourceLastSeq ?? null;
      }
    } finally {
      input.destroy();
    }
    const range = totals.first_seq === null ? '' : ` (seq ${totals.first_seq}–${totals.last_seq})`;
    const source = totals.source_last_seq === null ? '' : `; source read up to seq ${totals.source_last_seq}`;
    await out.result(
      { context: id, ...totals },
      () =>
        `imported ${totals.imported} message(s) into ${id}${range}${source}` +
        (totals.replayed > 0 ? `; ${totals.replayed} were already there from an earlier run` : ''),
    );
  },
};
