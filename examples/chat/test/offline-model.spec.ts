import type { WindowMessage } from '@fastpaca/sdk';
import { describe, expect, it } from 'vitest';
import { OfflineModel, offlineReply, offlineSummary, words } from '../src/server/models/offline-model.js';

const message = (role: string, text: string, seq: number | null = 1): WindowMessage => ({
  seq,
  role,
  parts: [{ type: 'text', text }],
  metadata: {},
  token_count: 1,
  inserted_at: '2025-01-01T00:00:00.000Z',
});

describe('offline model – deterministic stand-in', () => {
  it('answers the same window with the same reply, quoting the last user message', () => {
    const window = [
      message('user', 'Hello there'),
      message('assistant', 'Hi!'),
      message('user', 'How are you?'),
    ];
    expect(offlineReply(window)).toBe(offlineReply([...window]));
    expect(offlineReply(window)).toContain('You said “How are you?”.');
    expect(offlineReply(window)).toContain('holds 3 messages, 2 of them yours');
  });

  it('tells a long story when asked, long enough to stop halfway', () => {
    expect(offlineReply([message('user', 'Tell me a long story')])).toMatch(/^Once upon a time/);
    expect(words(offlineReply([message('user', 'tell me a story')])).length).toBeGreaterThan(100);
  });

  it('streams word by word, and the words join back into the reply', async () => {
    const window = [message('user', 'Stream this please')];
    const deltas: string[] = [];
    for await (const delta of new OfflineModel(0).reply(window, new AbortController().signal))
      deltas.push(delta);
    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.join('')).toBe(offlineReply(window));
  });

  it('stops streaming when aborted', async () => {
    const controller = new AbortController();
    const deltas: string[] = [];
    await expect(async () => {
      for await (const delta of new OfflineModel(1).reply(
        [message('user', 'a long story')],
        controller.signal,
      )) {
        deltas.push(delta);
        if (deltas.length === 3) controller.abort();
      }
    }).rejects.toThrow();
    expect(deltas).toHaveLength(3);
  });

  it('summarizes what the user said and how often the assistant answered', () => {
    const summary = offlineSummary([
      message('user', 'First question'),
      message('assistant', 'First answer'),
      message('user', 'Second question'),
    ]);
    expect(summary).toBe(
      'Summary of 3 earlier messages. The user said “First question”, “Second question”. The assistant answered 1 time.',
    );
  });
});
