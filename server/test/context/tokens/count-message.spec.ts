import { describe, expect, it } from 'vitest';
import { countMessage, countParts, loadEstimator, prepareMessage } from '../../../src/context/index.js';

describe('countParts – text counts its text, other parts their JSON', () => {
  it('counts with chars:<n> as ceil(length / n)', async () => {
    const estimator = await loadEstimator('chars:4');
    const tool = { type: 'tool-search', toolCallId: 'c1', input: { q: 'x' } };
    expect(countParts(estimator, [{ type: 'text', text: 'hello' }, tool])).toEqual([
      2,
      Math.ceil(JSON.stringify(tool).length / 4),
    ]);
    expect(countParts(estimator, [{ type: 'text', text: '' }])).toEqual([0]);
  });

  it('counts with tiktoken and treats special-token text as ordinary text', async () => {
    const estimator = await loadEstimator('tiktoken:gpt-4o');
    expect(estimator.spec).toBe('tiktoken:o200k_base');
    expect(estimator.countText('hello world')).toBe(2);
    expect(estimator.countText('<|endoftext|>')).toBeGreaterThan(1);
    expect(
      countMessage(estimator, [
        { type: 'text', text: 'hello world' },
        { type: 'text', text: 'hello world' },
      ]),
    ).toBe(4);
  });

  it('caches one encoder per encoding', async () => {
    const a = await loadEstimator('tiktoken:gpt-4o');
    const b = await loadEstimator('tiktoken:o200k_base');
    expect(a.countText).toBe(b.countText);
  });
});

describe('prepareMessage – counts once, before the log', () => {
  it('uses a client-supplied token_count verbatim and skips counting', async () => {
    const estimator = await loadEstimator('chars:1');
    expect(
      prepareMessage(estimator, { role: 'user', parts: [{ type: 'text', text: 'abc' }], token_count: 99 }),
    ).toEqual({
      role: 'user',
      parts: [{ type: 'text', text: 'abc' }],
      metadata: {},
      token_count: 99,
    });
  });

  it('estimates the count and per-part counts otherwise', async () => {
    const estimator = await loadEstimator('chars:1');
    const prepared = prepareMessage(estimator, {
      role: 'assistant',
      parts: [
        { type: 'reasoning', text: 'r' },
        { type: 'text', text: 'abcd' },
      ],
      metadata: { k: 1 },
    });
    const reasoningJson = JSON.stringify({ type: 'reasoning', text: 'r' }).length;
    expect(prepared).toEqual({
      role: 'assistant',
      parts: [
        { type: 'reasoning', text: 'r' },
        { type: 'text', text: 'abcd' },
      ],
      metadata: { k: 1 },
      token_count: reasoningJson + 4,
      part_tokens: [reasoningJson, 4],
    });
  });
});
