import {
  convertToModelMessages,
  readUIMessageStream,
  stepCountIs,
  streamText,
  tool,
  type UIMessage,
  type UIMessageChunk,
} from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ContextHandle,
  createClient,
  type FastpacaClient,
  loadChat,
  loadModelInput,
  saveChatReply,
} from '../../src/index.js';
import { type ScriptedStep, scriptedModel } from '../support/scripted-model.js';
import { type ServerProcess, startServer, stopServer, uniqueId } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));

const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

/** A tool that never answers until the call is aborted (a slow API). */
const tools = {
  weather: tool({
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, celsius: 21 }),
  }),
  slow: tool({
    description: 'Waits',
    inputSchema: z.object({}),
    execute: (_input, { abortSignal }) =>
      new Promise<{ done: boolean }>((_resolve, reject) =>
        abortSignal?.addEventListener('abort', () => reject(abortSignal.reason)),
      ),
  }),
};

/**
 * What a chat route does: append the user's message, call the model on the
 * window, stream the reply and keep it when it finishes (or is cut short).
 */
async function chatTurn(
  ctx: ContextHandle,
  message: UIMessage,
  steps: ScriptedStep[],
  options: { abortAfterChunks?: number; replyId: string; replaces?: string } = { replyId: 'r' },
): Promise<{ streamed: UIMessage; saved: Promise<unknown> }> {
  await ctx.append(message);
  const aborter = new AbortController();
  const result = streamText({
    model: scriptedModel(steps),
    messages: await convertToModelMessages(await loadModelInput<UIMessage>(ctx)),
    tools,
    stopWhen: stepCountIs(5),
    abortSignal: aborter.signal,
  });
  let saved!: Promise<unknown>;
  const finished = new Promise<void>((resolve) => {
    const stream = result.toUIMessageStream<UIMessage>({
      generateMessageId: () => options.replyId,
      sendReasoning: true,
      onFinish: (event) => {
        saved = saveChatReply(ctx, event, { replaces: options.replaces });
        resolve();
      },
    });
    let chunks = 0;
    const counted = stream.pipeThrough(
      new TransformStream<UIMessageChunk, UIMessageChunk>({
        transform(chunk, controller) {
          controller.enqueue(chunk);
          if (++chunks === options.abortAfterChunks) aborter.abort();
        },
      }),
    );
    void (async () => {
      for await (const streamed of readUIMessageStream<UIMessage>({ stream: counted })) last = streamed;
    })();
  });
  let last: UIMessage | undefined;
  await finished;
  await saved;
  // The last state the browser saw: the reply as useChat would show it.
  return { streamed: last!, saved };
}

describe('ai-sdk chat helpers against a real server', () => {
  it('a reply with reasoning, a tool call and its result comes back unchanged, as UI and as model messages', async () => {
    const ctx = await client.context(uniqueId('ai-roundtrip'), { budget: 100_000 });
    const question = user('u1', 'Weather in Paris?');
    const { streamed } = await chatTurn(
      ctx,
      question,
      [
        {
          reasoning: 'Need the weather tool.',
          toolCalls: [{ id: 'c1', name: 'weather', input: { city: 'Paris' } }],
        },
        { text: '21 °C in Paris.' },
      ],
      { replyId: 'a1' },
    );
    expect(streamed.parts.map((part) => part.type)).toEqual([
      'step-start',
      'reasoning',
      'tool-weather',
      'step-start',
      'text',
    ]);
    expect(streamed.parts[2]).toMatchObject({ state: 'output-available', output: { celsius: 21 } });

    const history = await loadChat<UIMessage>(ctx);
    expect(history).toEqual([question, streamed]);
    expect(await convertToModelMessages(history)).toEqual(await convertToModelMessages([question, streamed]));
    // One append for the whole reply: the call and its result share a seq.
    expect((await ctx.getTail()).messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('a reply stopped mid-sentence is kept partial; an unanswered tool call is dropped so the next turn is valid', async () => {
    const ctx = await client.context(uniqueId('ai-abort'), { budget: 100_000 });
    const { streamed } = await chatTurn(
      ctx,
      user('u1', 'Think, then wait.'),
      [{ text: 'Let me check that for you', toolCalls: [{ id: 'c1', name: 'slow', input: {} }] }],
      // start, start-step, text-start, 6 deltas, text-end, tool input: abort while the tool runs
      { replyId: 'a1', abortAfterChunks: 11 },
    );
    expect(streamed.parts.some((part) => part.type === 'tool-slow')).toBe(true);

    const [, stored] = await loadChat<UIMessage>(ctx);
    expect(stored?.metadata).toEqual({ partial: true });
    expect(stored?.parts.map((part) => part.type)).toEqual(['step-start', 'text']);
    expect(stored?.parts[1]).toMatchObject({ text: 'Let me check that for you' });

    // The next turn's model input converts and the model runs: no call without its result.
    const next = await chatTurn(ctx, user('u2', 'Never mind.'), [{ text: 'Sure.' }], { replyId: 'a2' });
    expect(next.streamed.parts.at(-1)).toMatchObject({ type: 'text', text: 'Sure.' });
    expect((await loadChat<UIMessage>(ctx)).map((m) => m.id)).toEqual(['u1', 'a1', 'u2', 'a2']);
  });

  it('a reply saved twice is stored once; a continued reply supersedes its older copy', async () => {
    const ctx = await client.context(uniqueId('ai-continue'), { budget: 100_000 });
    const reply: UIMessage = {
      id: 'a1',
      role: 'assistant',
      parts: [{ type: 'tool-ask', toolCallId: 'c1', state: 'input-available', input: { q: 'colour?' } }],
    };
    const first = await saveChatReply(ctx, { responseMessage: reply, isAborted: false });
    const again = await saveChatReply(ctx, { responseMessage: reply, isAborted: false });
    expect(again).toEqual({ ...first, replayed: true });

    const answered: UIMessage = {
      ...reply,
      parts: [
        {
          type: 'tool-ask',
          toolCallId: 'c1',
          state: 'output-available',
          input: { q: 'colour?' },
          output: 'blue',
        },
        { type: 'text', text: 'Blue it is.' },
      ],
    };
    const continued = await saveChatReply(ctx, {
      responseMessage: answered,
      isAborted: false,
      isContinuation: true,
    });
    expect(continued?.replayed).toBe(false);
    expect(await loadChat<UIMessage>(ctx)).toEqual([answered]);
    expect((await ctx.getTail()).messages).toHaveLength(2);
  });

  it('a regenerated reply replaces the old one in the history and in the model input', async () => {
    const ctx = await client.context(uniqueId('ai-regenerate'), { budget: 100_000 });
    const question = user('u1', 'A colour?');
    await chatTurn(ctx, question, [{ text: 'Red.' }], { replyId: 'a1' });
    await saveChatReply(
      ctx,
      {
        responseMessage: { id: 'a2', role: 'assistant', parts: [{ type: 'text', text: 'Green.' }] },
        isAborted: false,
      },
      { replaces: 'a1' },
    );
    expect((await loadChat<UIMessage>(ctx)).map((m) => m.id)).toEqual(['u1', 'a2']);
    expect((await loadModelInput<UIMessage>(ctx)).map((m) => m.id)).toEqual(['u1', 'a2']);
  });

  it('replies saved without an id (a route that does not generate ids) are all kept, under their seqs', async () => {
    const ctx = await client.context(uniqueId('ai-empty-ids'), { budget: 100_000 });
    const reply = (text: string): UIMessage => ({
      id: '',
      role: 'assistant',
      parts: [{ type: 'text', text }],
    });
    await ctx.append(user('u1', 'one'));
    await saveChatReply(ctx, { responseMessage: reply('first'), isAborted: false });
    await ctx.append(user('u2', 'two'));
    await saveChatReply(ctx, { responseMessage: reply('second'), isAborted: false });
    const history = await loadChat<UIMessage>(ctx);
    expect(history.map((m) => m.id)).toEqual(['u1', 'fastpaca-2', 'u2', 'fastpaca-4']);
    expect((await ctx.getTail()).messages[1]?.metadata).toEqual({});
  });

  it('a message can supersede only an assistant reply, and only from an assistant message', async () => {
    const ctx = await client.context(uniqueId('ai-collide'), { budget: 100_000 });
    await ctx.append({ role: 'system', parts: [{ type: 'text', text: 'Be brief.' }] });
    await ctx.append(user('u1', 'hi'));
    // A user message that reuses another message's id, or claims to replace one, hides nothing.
    await ctx.append(user('fastpaca-1', 'sneaky'), { idempotencyKey: 'k1' });
    await ctx.append({ ...user('u3', 'again'), metadata: { ui_replaces: 'u1' } });
    const ids = (await loadModelInput<UIMessage>(ctx)).map((m) => m.id);
    expect(ids).toEqual(['fastpaca-1', 'u1', 'fastpaca-1', 'u3']);
  });

  it('a failed stream is kept like a stopped one; a continued reply with a very long id is still stored', async () => {
    const ctx = await client.context(uniqueId('ai-failed'), { budget: 100_000 });
    const failed: UIMessage = {
      id: 'a1',
      role: 'assistant',
      parts: [
        { type: 'text', text: 'Half a tho' },
        { type: 'tool-ask', toolCallId: 'c1', state: 'input-available', input: {} },
      ],
    };
    await saveChatReply(ctx, { responseMessage: failed, isAborted: false, outcome: { status: 'failed' } });
    const [stored] = await loadChat<UIMessage>(ctx);
    expect(stored?.metadata).toEqual({ partial: true });
    expect(stored?.parts.map((p) => p.type)).toEqual(['text']);

    const longId = 'x'.repeat(240);
    const reply = (parts: UIMessage['parts']): UIMessage => ({ id: longId, role: 'assistant', parts });
    await saveChatReply(ctx, { responseMessage: reply([{ type: 'text', text: 'a' }]), isAborted: false });
    const continued = await saveChatReply(ctx, {
      responseMessage: reply([{ type: 'text', text: 'a, then b' }]),
      isAborted: false,
      isContinuation: true,
    });
    expect(continued?.replayed).toBe(false);
    expect((await loadChat<UIMessage>(ctx)).at(-1)?.parts).toEqual([{ type: 'text', text: 'a, then b' }]);
  });

  it('nothing is stored for a reply stopped before it said anything', async () => {
    const ctx = await client.context(uniqueId('ai-empty'), { budget: 100_000 });
    const empty: UIMessage = { id: 'a1', role: 'assistant', parts: [{ type: 'step-start' }] };
    expect(await saveChatReply(ctx, { responseMessage: empty, isAborted: true })).toBeUndefined();
    expect((await ctx.getTail()).messages).toEqual([]);
  });
});
