import { describe, expect, it } from 'vitest';
import { cli, cliJson, sdk, text, uniqueId } from './support/cli.js';

async function created(prefix: string): Promise<string> {
  const id = uniqueId(prefix);
  await sdk().context(id, { budget: 10_000 });
  return id;
}

describe('append', () => {
  it('appends the arguments as one text message and prints where it landed', async () => {
    const id = await created('append-args');
    const result = await cli(['append', id, 'Hello', 'there']);
    expect(result.code).toBe(0);
    // chars:1 estimator: one token per character of text.
    expect(result.stdout).toBe('appended seq 1 (version 1, 11 tokens)\n');
    const second = await cliJson([
      'append',
      id,
      '--role',
      'assistant',
      '--metadata',
      '{"model":"m1"}',
      'Hi!',
    ]);
    expect(second).toEqual({ seq: 2, version: 2, token_estimate: 3, replayed: false });
    const { messages } = await sdk().contextHandle(id).getTail();
    expect(messages.map(({ seq, role, parts, metadata }) => ({ seq, role, parts, metadata }))).toEqual([
      { seq: 1, role: 'user', parts: [{ type: 'text', text: 'Hello there' }], metadata: {} },
      { seq: 2, role: 'assistant', parts: [{ type: 'text', text: 'Hi!' }], metadata: { model: 'm1' } },
    ]);
  });

  it('reads the text from stdin when no text is given, dropping one trailing newline', async () => {
    const id = await created('append-stdin');
    const result = await cliJson(['append', id], { input: 'line one\nline two\n' });
    expect(result.seq).toBe(1);
    const { messages } = await sdk().contextHandle(id).getTail();
    expect(messages[0]!.parts).toEqual([{ type: 'text', text: 'line one\nline two' }]);

    const empty = await cli(['append', id], { input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the message is empty');
  });

  it('replays an append with the same --key instead of appending twice', async () => {
    const id = await created('append-key');
    const first = await cliJson(['append', id, '--key', 'turn-1', 'once']);
    const again = await cliJson(['append', id, '--key', 'turn-1', 'once']);
    expect(again).toEqual({ ...first, replayed: true });
    expect((await cli(['append', id, '--key', 'turn-1', 'once'])).stdout).toContain('already appended');
    expect((await sdk().contextHandle(id).get()).last_seq).toBe(1);
  });

  it('appends only at the given --if-version, else exits 4', async () => {
    const id = await created('append-version');
    expect((await cliJson(['append', id, '--if-version', '0', 'first'])).version).toBe(1);
    const stale = await cli(['append', id, '--if-version', '0', 'second']);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toContain('version mismatch: expected 0, the context is at 1');
    expect((await sdk().contextHandle(id).get()).last_seq).toBe(1);
  });

  it('appends non-text parts given with --parts', async () => {
    const id = await created('append-parts');
    const parts = [{ type: 'tool-search', toolCallId: 'c1', input: { q: 'x' } }];
    await cliJson(['append', id, '--role', 'assistant', '--parts', JSON.stringify(parts)]);
    const { messages } = await sdk().contextHandle(id).getTail();
    expect(messages[0]!.parts).toEqual(parts);
    const both = await cli(['append', id, '--parts', JSON.stringify(parts), 'and text']);
    expect(both.code).toBe(2);
  });
});

describe('window and tail', () => {
  it('shows the LLM window with roles, text and token totals', async () => {
    const id = await created('window');
    const ctx = sdk().contextHandle(id);
    await ctx.append(text('You are terse.', 'system'));
    await ctx.append(text('Hi'));
    await ctx.append({
      role: 'assistant',
      parts: [
        { type: 'tool-lookup', input: {} },
        { type: 'text', text: 'Yo' },
      ],
    });

    const window = await cliJson(['window', id]);
    expect(window.messages.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    expect(window.used_tokens).toBe(window.messages.reduce((sum: number, m: any) => sum + m.token_count, 0));
    expect(window.needs_compaction).toBe(false);

    const human = await cli(['window', id]);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`version 3 · 3 message(s) · ${window.used_tokens} tokens used · within budget`);
    expect(lines[1]).toBe('segments: live 1–3');
    expect(lines.slice(2)).toEqual([
      '#1 system (14 tok): You are terse.',
      '#2 user (2 tok): Hi',
      `#3 assistant (${window.messages[2].token_count} tok): [tool-lookup] Yo`,
    ]);

    // A trimmed copy drops the oldest unpinned messages but never the system prompt or the newest one.
    const trimmed = await cliJson(['window', id, '--budget-tokens', '16']);
    expect(trimmed.messages.map((m: any) => m.seq)).toEqual([1, 3]);
    expect(trimmed.used_tokens).toBe(14 + window.messages[2].token_count);
    expect((await sdk().contextHandle(id).context()).messages).toHaveLength(3);
  });

  it('shows the newest messages, oldest of them first', async () => {
    const id = await created('tail');
    const ctx = sdk().contextHandle(id);
    for (const word of ['one', 'two', 'three', 'four']) await ctx.append(text(word));

    const human = await cli(['tail', id, '--limit', '2']);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('#3 user (5 tok): three\n#4 user (4 tok): four\n');

    const page = await cliJson(['tail', id, '--limit', '2', '--offset', '1']);
    expect(page.messages.map((m: any) => m.parts[0].text)).toEqual(['two', 'three']);
    expect((await cliJson(['tail', id])).messages).toHaveLength(4);
    expect((await cli(['tail', id, '--limit', '1001'])).code).toBe(2);
  });
});
