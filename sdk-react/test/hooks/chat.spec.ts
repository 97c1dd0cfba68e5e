import { type ContextHandle, createClient, type FastpacaClient } from '@fastpaca/sdk';
import { act, renderHook, waitFor } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatSend, type ChatSendRequest, useFastpacaChat } from '../../src/index.js';
import { providerWrapper, textOf } from '../support/render.js';
import { type ServerProcess, startServer, stopServer, uniqueId } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What a chat backend does per turn: append the user's message, stream the
 * reply, append it under the id the hook chose. A reply cut short (the client
 * went away) is appended as it stands, marked partial.
 */
function backend(words: string[], delayMs: number): ChatSend {
  return async ({ contextId, message, assistantMessageId, signal }: ChatSendRequest) => {
    const ctx = client.contextHandle(contextId);
    await ctx.append(message);
    return (async function* () {
      let said = '';
      try {
        for (const word of words) {
          if (signal.aborted) break;
          await sleep(delayMs);
          said += word;
          yield word;
        }
      } finally {
        const reply = { id: assistantMessageId, role: 'assistant', parts: [{ type: 'text', text: said }] };
        await ctx.append(signal.aborted ? { ...reply, metadata: { partial: true } } : reply);
      }
    })();
  };
}

describe('useFastpacaChat – turns', () => {
  it('shows the user message at once, streams the reply, and ends with both from the log, once each', async () => {
    const ctx = await client.context(uniqueId('chat'), { budget: 10_000 });
    const send = backend(['Hello', ', ', 'world', '!'], 20);
    const statuses: string[] = [];
    const { result, unmount } = renderHook(
      () => {
        const chat = useFastpacaChat(ctx.id, { send });
        if (statuses.at(-1) !== chat.status) statuses.push(chat.status);
        return chat;
      },
      { wrapper: providerWrapper(client) },
    );
    await waitFor(() => expect(result.current.logStatus).toBe('live'));

    let turn!: Promise<void>;
    act(() => {
      turn = result.current.sendMessage({ text: 'Hi there' });
    });
    expect(result.current.status).toBe('submitted');
    expect(result.current.messages.map((m) => [m.role, textOf(m), m.state])).toEqual([
      ['user', 'Hi there', 'sending'],
    ]);
    await waitFor(() => expect(result.current.status).toBe('streaming'));
    await act(() => turn);
    expect(result.current.status).toBe('ready');
    await waitFor(() =>
      expect(result.current.messages.map((m) => m.state)).toEqual(['committed', 'committed']),
    );
    expect(result.current.messages.map((m) => [m.seq, m.role, textOf(m)])).toEqual([
      [1, 'user', 'Hi there'],
      [2, 'assistant', 'Hello, world!'],
    ]);
    expect(statuses).toEqual(['ready', 'submitted', 'streaming', 'ready']);
    unmount();
  });

  it('stop keeps the part of the reply that was shown, and the log stores it marked partial', async () => {
    const ctx = await client.context(uniqueId('stop'), { budget: 10_000 });
    const send = backend(
      Array.from({ length: 200 }, (_, i) => `w${i} `),
      15,
    );
    const { result, unmount } = renderHook(() => useFastpacaChat(ctx.id, { send }), {
      wrapper: providerWrapper(client),
    });
    await waitFor(() => expect(result.current.logStatus).toBe('live'));
    let turn!: Promise<void>;
    act(() => {
      turn = result.current.sendMessage({ text: 'Tell me everything' });
    });
    await waitFor(() => expect(textOf(result.current.messages.at(-1)!)).toMatch(/w3 /));
    act(() => result.current.stop());
    await act(() => turn);
    expect(result.current.status).toBe('ready');
    const shown = textOf(result.current.messages.at(-1)!);
    expect(result.current.messages.at(-1)?.metadata).toMatchObject({ partial: true });

    await waitFor(() =>
      expect(result.current.messages.map((m) => m.state)).toEqual(['committed', 'committed']),
    );
    const stored = (await ctx.getTail()).messages.at(-1)!;
    expect(stored.metadata).toMatchObject({ partial: true });
    expect(textOf(stored).startsWith(shown)).toBe(true);
    expect(textOf(stored).length).toBeLessThan(200 * 3);
    unmount();
  });

  it('a reply outlives its component: unmounted mid-reply it is stored whole; mounted again it streams on', async () => {
    const ctx = await client.context(uniqueId('outlives'), { budget: 10_000 });
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
    const send = backend(words, 15);
    const first = renderHook(() => useFastpacaChat(ctx.id, { send }), { wrapper: providerWrapper(client) });
    await waitFor(() => expect(first.result.current.logStatus).toBe('live'));
    act(() => {
      void first.result.current.sendMessage({ text: 'Keep going' });
    });
    await waitFor(() => expect(textOf(first.result.current.messages.at(-1)!)).toMatch(/w3 /));
    first.unmount();

    // Mounted again while the reply is still under way: the same turn, still streaming.
    const second = renderHook(() => useFastpacaChat(ctx.id, { send }), { wrapper: providerWrapper(client) });
    expect(second.result.current.status).toBe('streaming');
    await waitFor(() => expect(textOf(second.result.current.messages.at(-1)!)).toMatch(/w20 /), {
      timeout: 5_000,
    });
    await waitFor(() => expect(second.result.current.status).toBe('ready'), { timeout: 5_000 });
    const stored = await waitForStoredReply(ctx.id);
    expect(stored.metadata).not.toHaveProperty('partial');
    expect(textOf(stored)).toBe(words.join(''));
    second.unmount();

    // And with no component at all, a turn still finishes and is stored whole.
    const third = renderHook(() => useFastpacaChat(ctx.id, { send }), { wrapper: providerWrapper(client) });
    await waitFor(() => expect(third.result.current.logStatus).toBe('live'));
    act(() => {
      void third.result.current.sendMessage({ text: 'Again' });
    });
    await waitFor(() => expect(third.result.current.status).toBe('streaming'));
    third.unmount();
    await waitFor(async () => expect((await ctx.getTail()).messages).toHaveLength(4), { timeout: 5_000 });
    expect(textOf((await ctx.getTail()).messages.at(-1)!)).toBe(words.join(''));
  });

  it('a failed turn rolls back the user message and reports the error', async () => {
    const ctx = await client.context(uniqueId('fail'), { budget: 10_000 });
    const send: ChatSend = async () =>
      new Response(JSON.stringify({ message: 'model is down' }), { status: 502 });
    const { result, unmount } = renderHook(() => useFastpacaChat(ctx.id, { send }), {
      wrapper: providerWrapper(client),
    });
    await waitFor(() => expect(result.current.logStatus).toBe('live'));
    await act(() => result.current.sendMessage({ text: 'anyone?' }));
    expect(result.current.status).toBe('error');
    expect(result.current.error?.message).toBe('model is down');
    expect(result.current.messages).toEqual([]);
    act(() => result.current.clearError());
    expect(result.current.status).toBe('ready');
    unmount();
  });

  it('reads a streamed fetch Response as text deltas', async () => {
    const ctx = await client.context(uniqueId('response'), { budget: 10_000 });
    const send: ChatSend = async ({ contextId, message, assistantMessageId }) => {
      await client.contextHandle(contextId).append(message);
      const encoder = new TextEncoder();
      // A multi-byte character split across chunks must come out whole.
      const bytes = encoder.encode('Grüße');
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(bytes.slice(0, 3));
          await sleep(10);
          controller.enqueue(bytes.slice(3));
          await client
            .contextHandle(contextId)
            .append({ id: assistantMessageId, role: 'assistant', parts: [{ type: 'text', text: 'Grüße' }] });
          controller.close();
        },
      });
      return new Response(body, { status: 200 });
    };
    const { result, unmount } = renderHook(() => useFastpacaChat(ctx.id, { send }), {
      wrapper: providerWrapper(client),
    });
    await waitFor(() => expect(result.current.logStatus).toBe('live'));
    await act(() => result.current.sendMessage({ text: 'greet me' }));
    expect(textOf(result.current.messages.at(-1)!)).toBe('Grüße');
    await waitFor(() =>
      expect(result.current.messages.map((m) => m.state)).toEqual(['committed', 'committed']),
    );
    unmount();
  });
});

async function waitForStoredReply(id: string) {
  let reply: Awaited<ReturnType<ContextHandle['getTail']>>['messages'][number] | undefined;
  await waitFor(
    async () => {
      const { messages } = await client.contextHandle(id).getTail();
      reply = messages.at(-1);
      expect(reply?.role).toBe('assistant');
    },
    { timeout: 5_000 },
  );
  return reply!;
}
