import { convertToModelMessages, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type FastpacaClient, toUIMessages, uiMessageIdKey } from '../../src/index.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));

const conversation: UIMessage[] = [
  { id: 'sys-1', role: 'system', parts: [{ type: 'text', text: 'You are terse.' }] },
  {
    id: 'user-1',
    role: 'user',
    metadata: { createdAt: 1_700_000_000_000 },
    parts: [{ type: 'text', text: 'Weather in Paris?' }],
  },
  {
    id: 'asst-1',
    role: 'assistant',
    parts: [
      { type: 'step-start' },
      { type: 'reasoning', text: 'Need the weather tool.', state: 'done' },
      {
        type: 'tool-weather',
        toolCallId: 'call-1',
        state: 'output-available',
        input: { city: 'Paris' },
        output: { celsius: 21 },
      },
      { type: 'text', text: '21 °C and sunny.', state: 'done' },
    ],
  },
];

describe('ai-sdk – UIMessage in, UIMessage out', () => {
  it('appends UIMessages as they are and reads them back identical', async () => {
    const ctx = await client.context(uniqueId('ui'), { budget: 100_000 });
    for (const message of conversation) await ctx.append(message);
    const { messages } = await ctx.getTail();
    expect(messages.map((m) => m.metadata[uiMessageIdKey])).toEqual(['sys-1', 'user-1', 'asst-1']);
    expect(toUIMessages<UIMessage>(messages)).toEqual(conversation);
  });

  it('the UI id is the idempotency key: appending the same UIMessage again stores it once', async () => {
    const ctx = await client.context(uniqueId('ui-dedup'), { budget: 100_000 });
    const first = await ctx.append(conversation[1]!);
    const again = await ctx.append(conversation[1]!);
    expect(again).toEqual({ ...first, replayed: true });
    expect((await ctx.getTail()).messages).toHaveLength(1);
  });

  it('UIMessages without an id (onFinish gives id "") are distinct messages, never deduplicated', async () => {
    const ctx = await client.context(uniqueId('ui-empty-id'), { budget: 100_000 });
    const reply = (words: string): UIMessage => ({
      id: '',
      role: 'assistant',
      parts: [{ type: 'text', text: words }],
    });
    const first = await ctx.append(reply('first answer'));
    const second = await ctx.append(reply('second answer'));
    expect([first.replayed, second.replayed]).toEqual([false, false]);
    const { messages } = await ctx.getTail();
    expect(messages.map((m) => m.parts)).toEqual([
      [{ type: 'text', text: 'first answer' }],
      [{ type: 'text', text: 'second answer' }],
    ]);
  });

  it('the window converts with convertToModelMessages', async () => {
    const ctx = await client.context(uniqueId('ui-model'), { budget: 100_000 });
    for (const message of conversation) await ctx.append(message);
    await ctx.append(text('thanks'));
    const window = await ctx.context();
    const model = await convertToModelMessages(toUIMessages<UIMessage>(window.messages));
    expect(model.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
    expect(model[0]).toEqual({ role: 'system', content: 'You are terse.' });
    expect(model[1]).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] });
    expect(model[2]?.content).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'tool-call', toolCallId: 'call-1', toolName: 'weather' }),
        expect.objectContaining({ type: 'text', text: '21 °C and sunny.' }),
      ]),
    );
    expect(model[3]).toMatchObject({
      role: 'tool',
      content: [
        { type: 'tool-result', toolCallId: 'call-1', output: { type: 'json', value: { celsius: 21 } } },
      ],
    });
    expect(model[4]).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'thanks' }] });
  });

  it('compaction replacements may be UIMessages; messages without a UI id get stable ids', async () => {
    const ctx = await client.context(uniqueId('ui-compact'), {
      budget: 100_000,
      policy: { strategy: 'manual' },
    });
    await ctx.append(text('plain wire message'));
    await ctx.compact([
      { id: 'summary-1', role: 'system', parts: [{ type: 'text', text: 'Earlier: the user said hi.' }] },
      text('recent, no id'),
    ]);
    const ui = toUIMessages((await ctx.context()).messages);
    expect(ui.map((m) => m.id)).toEqual(['summary-1', 'fastpaca-summary-1']);
    expect(toUIMessages((await ctx.getTail()).messages).map((m) => m.id)).toEqual(['fastpaca-1']);
    const window = (await ctx.context()).messages;
    expect((await convertToModelMessages(toUIMessages<UIMessage>(window))).map((m) => m.role)).toEqual([
      'system',
      'user',
    ]);
  });

  it('roles ai-sdk does not know are skipped, or rejected on request', async () => {
    const ctx = await client.context(uniqueId('ui-roles'), { budget: 100_000 });
    await ctx.append(text('hello'));
    await ctx.append({ role: 'tool', parts: [{ type: 'tool-result', toolCallId: 'x', output: 1 }] });
    const { messages } = await ctx.getTail();
    expect(toUIMessages(messages).map((m) => m.role)).toEqual(['user']);
    expect(() => toUIMessages(messages, { unknownRoles: 'throw' })).toThrow(/role "tool"/);
  });

  it('UI metadata that is not an object survives the round trip', async () => {
    const ctx = await client.context(uniqueId('ui-meta'), { budget: 100_000 });
    const odd: UIMessage<string> = {
      id: 'odd',
      role: 'user',
      metadata: 'just a string',
      parts: [{ type: 'text', text: 'x' }],
    };
    await ctx.append(odd);
    expect(toUIMessages<UIMessage<string>>((await ctx.getTail()).messages)).toEqual([odd]);
  });
});
