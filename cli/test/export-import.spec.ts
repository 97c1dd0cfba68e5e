import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, MessageInput } from '@fastpaca/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, jsonLines, sdk, spawnCli, text, uniqueId, waitFor } from './support/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fastpaca-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What an import must preserve; seq and inserted_at are the target's own. */
const content = ({ role, parts, metadata, token_count }: Message) => ({ role, parts, metadata, token_count });

/** Every message of a context, through the SDK, oldest first. */
async function history(id: string): Promise<Message[]> {
  const messages: Message[] = [];
  for await (const message of sdk().contextHandle(id).history()) messages.push(message);
  return messages;
}

/** A varied conversation: roles, tool and reasoning and data parts, nested metadata, unicode. */
const conversation: MessageInput[] = [
  { role: 'system', parts: [{ type: 'text', text: 'You are a helpful agent.' }], metadata: { pinned: true } },
  {
    role: 'user',
    parts: [{ type: 'text', text: 'Météo à Paris ? 🌧️\nmultiline' }],
    metadata: { user: { id: 'u-1' } },
  },
  {
    role: 'assistant',
    parts: [
      { type: 'reasoning', text: 'Need the weather tool.' },
      { type: 'tool-weather', toolCallId: 'call-1', state: 'input-available', input: { city: 'Paris' } },
    ],
    metadata: { model: 'm-1', usage: { input: 12, output: 4 } },
  },
  {
    role: 'tool',
    parts: [{ type: 'tool-result', toolCallId: 'call-1', output: { c: 14, sky: ['rain', null] } }],
  },
  {
    role: 'assistant',
    parts: [
      { type: 'data-card', data: { n: 1.5, ok: false } },
      { type: 'text', text: 'Rain.' },
    ],
  },
];

describe('export and import', () => {
  const source = uniqueId('export-src');
  const bulk = 1_050; // more than one /messages page (1,000)
  let exported: Message[];

  beforeAll(async () => {
    const ctx = await sdk().context(source, { budget: 100_000 });
    for (const message of conversation) await ctx.append(message);
    for (let i = 0; i < bulk; i += 100) {
      const count = Math.min(100, bulk - i);
      await ctx.appendTurn(
        Array.from({ length: count }, (_, j) => text(`bulk ${i + j}`, j % 2 ? 'assistant' : 'user')),
      );
    }
    exported = await history(source);
  });

  it('exports the whole log as JSON lines, oldest first, to stdout or to a file', async () => {
    const result = await cli(['export', source]);
    expect(result.code).toBe(0);
    const lines = jsonLines<Message>(result.stdout);
    expect(lines).toHaveLength(conversation.length + bulk);
    expect(lines).toEqual(exported);
    expect(lines.map((m) => m.seq)).toEqual(lines.map((_, i) => i + 1));

    const file = join(dir, 'export.jsonl');
    const summary = await cliJson(['export', source, '--out', file]);
    expect(summary).toEqual({
      context: source,
      out: file,
      exported: lines.length,
      first_seq: 1,
      last_seq: lines.length,
    });
    expect(readFileSync(file, 'utf8')).toBe(result.stdout);

    const tail = jsonLines<Message>(
      (await cli(['export', source, '--after-seq', String(lines.length - 2)])).stdout,
    );
    expect(tail.map((m) => m.seq)).toEqual([lines.length - 1, lines.length]);
  });

  it('imports an export into a new context with the same history', async () => {
    const file = join(dir, 'roundtrip.jsonl');
    expect((await cli(['export', source, '--out', file])).code).toBe(0);
    const target = uniqueId('import-dst');

    const missing = await cli(['import', target, '--in', file]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('pass --create');

    const result = await cli(['import', target, '--in', file, '--create', '--budget', '50000']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `imported ${exported.length} message(s) into ${target} (seq 1–${exported.length}); ` +
        `source read up to seq ${exported.length}\n`,
    );

    const copied = await history(target);
    expect(copied.map(content)).toEqual(exported.map(content));
    expect(copied.map((m) => m.seq)).toEqual(exported.map((m) => m.seq));
    expect((await sdk().contextHandle(target).get()).token_budget).toBe(50_000);

    // Exported again, the copy is the same file but for the timestamps.
    const again = jsonLines<Message>((await cli(['export', target])).stdout);
    expect(again.map(({ inserted_at: _, ...rest }) => rest)).toEqual(
      exported.map(({ inserted_at: _, ...rest }) => rest),
    );
  });

  it('imports from stdin, and a re-run appends nothing twice', async () => {
    const input = (await cli(['export', source])).stdout;
    const target = uniqueId('import-rerun');
    const first = await cliJson(['import', target, '--create'], { input });
    expect(first).toEqual({
      context: target,
      imported: exported.length,
      replayed: 0,
      first_seq: 1,
      last_seq: exported.length,
      source_last_seq: exported.length,
    });
    const second = await cliJson(['import', target, '--create'], { input });
    expect(second).toEqual({ ...first, imported: 0, replayed: exported.length });
    expect((await cli(['import', target], { input })).stdout).toContain('were already there');

    const copied = await history(target);
    expect(copied.map(content)).toEqual(exported.map(content));
  });

  it('resumes an import killed halfway without duplicates', async () => {
    const lines = (await cli(['export', source])).stdout.split('\n').slice(0, 40);
    const target = uniqueId('import-crash');
    // Batches of 10: with 25 lines read, two batches are appended and the third waits for input.
    const partial = spawnCli(['import', target, '--create', '--batch', '10']);
    partial.child.stdin!.write(`${lines.slice(0, 25).join('\n')}\n`);
    const handle = sdk().contextHandle(target);
    await waitFor(async () => (await handle.get().catch(() => undefined))?.last_seq === 20, 'two batches');
    partial.child.kill('SIGKILL');
    await partial.exited;

    const rerun = await cliJson(['import', target, '--batch', '10'], { input: `${lines.join('\n')}\n` });
    expect(rerun).toMatchObject({ imported: 20, replayed: 20, last_seq: 40 });
    expect((await history(target)).map(content)).toEqual(exported.slice(0, 40).map(content));
  });

  it('continues from source_last_seq when the source has grown', async () => {
    const grown = uniqueId('import-grown-src');
    const ctx = await sdk().context(grown, { budget: 10_000 });
    for (const word of ['a', 'b', 'c']) await ctx.append(text(word));
    const target = uniqueId('import-grown-dst');
    const first = await cliJson(['import', target, '--create'], {
      input: (await cli(['export', grown])).stdout,
    });
    expect(first.source_last_seq).toBe(3);

    for (const word of ['d', 'e']) await ctx.append(text(word));
    const more = (await cli(['export', grown, '--after-seq', String(first.source_last_seq)])).stdout;
    const second = await cliJson(['import', target], { input: more });
    expect(second).toMatchObject({ imported: 2, replayed: 0, first_seq: 4, last_seq: 5, source_last_seq: 5 });
    expect((await history(target)).map(content)).toEqual((await history(grown)).map(content));
  });

  it('keeps token counts unless --recount, and skips up to --after-seq', async () => {
    const line = JSON.stringify({
      seq: 7,
      role: 'user',
      parts: [{ type: 'text', text: 'abc' }],
      token_count: 99,
    });
    const skipped = JSON.stringify({ seq: 3, role: 'user', parts: [{ type: 'text', text: 'skip me' }] });
    const kept = uniqueId('import-counts');
    await cliJson(['import', kept, '--create'], { input: `${skipped}\n${line}\n` });
    const recounted = uniqueId('import-recount');
    await cliJson(['import', recounted, '--create', '--recount', '--after-seq', '3'], {
      input: `${skipped}\n${line}\n`,
    });
    expect((await history(kept)).map((m) => [m.parts[0]!.text, m.token_count])).toEqual([
      ['skip me', 7],
      ['abc', 99],
    ]);
    expect((await history(recounted)).map((m) => [m.parts[0]!.text, m.token_count])).toEqual([['abc', 3]]);
  });

  it('stops at the first bad line with exit 2, naming it', async () => {
    const target = uniqueId('import-bad');
    const good = JSON.stringify(text('fine'));
    const cases: [string, string][] = [
      [`${good}\nnot json\n`, 'line 2: not JSON'],
      [`${good}\n\n{"role":"user","parts":[]}\n`, 'line 3: parts: parts must be a non-empty array'],
      [`${good}\n{"role":"user","parts":[{"text":"x"}]}\n`, 'line 2: parts.0.type'],
      [`{"seq":2,${good.slice(1)}\n{"seq":2,${good.slice(1)}\n`, 'line 2: seq 2 after seq 2'],
    ];
    for (const [input, message] of cases) {
      const result = await cli(['import', target, '--create'], { input });
      expect(result.code, message).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const noFile = await cli(['import', target, '--in', join(dir, 'nope.jsonl')]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('cannot read --in');
  });

  it('exits 3 when exporting a context that does not exist', async () => {
    const result = await cli(['export', uniqueId('export-missing'), '--out', join(dir, 'missing.jsonl')]);
    expect(result.code).toBe(3);
    expect(() => readFileSync(join(dir, 'missing.jsonl'))).toThrow();
  });

  it('writes nothing to --out when the export fails', async () => {
    const file = join(dir, 'kept.jsonl');
    writeFileSync(file, 'previous\n');
    const result = await cli(['export', source, '--out', file], { env: { FASTPACA_TOKEN: 'wrong-token' } });
    expect(result.code).toBe(5);
    expect(readFileSync(file, 'utf8')).toBe('previous\n');
  });
});
