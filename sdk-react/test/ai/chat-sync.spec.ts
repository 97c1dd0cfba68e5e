import type { Server } from 'node:http';
import { useChat } from '@ai-sdk/react';
import { createClient, type FastpacaClient, loadChat } from '@fastpaca/sdk';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { UIMessage } from 'ai';
import { useState } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The SDK's scripted model: one stand-in for ai-sdk's models across both packages' tests.
import { type ScriptedStep, scriptedModel } from '../../../sdk/test/support/scripted-model.js';
import { FastpacaChatTransport, mergeChat, useFastpacaChatSync } from '../../src/ai.js';
import { chatRoute, serveRoute } from '../support/chat-route.js';
import { providerWrapper } from '../support/render.js';
import { type ServerProcess, startServer, stopServer, uniqueId } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;
let route: { url: string; server: Server };
let script: ScriptedStep[] = [{ text: 'Hi there.' }];

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
  route = await serveRoute(chatRoute(client, () => scriptedModel(script)));
});
afterAll(async () => {
  route.server.close();
  await stopServer(server);
});

/** What a page does: `useChat` with the transport, kept in step with the store. */
function useSyncedChat(id: string) {
  const [transport] = useState(() => new FastpacaChatTransport<UIMessage>({ api: `${route.url}/api/chat` }));
  const chat = useChat<UIMessage>({ id, transport });
  const view = useFastpacaChatSync(id, chat);
  return { chat, view };
}

/** A tab: its own client (its own websocket), like another browser tab. */
function openTab(id: string) {
  const tabClient = createClient({ baseUrl: server.url });
  return renderHook(() => useSyncedChat(id), { wrapper: providerWrapper(tabClient) });
}

/** The text a UI message shows (its text parts; replies start with a `step-start`). */
const textOf = (message: UIMessage) =>
  message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
const ids = (messages: readonly UIMessage[]) => messages.map((message) => message.id);

describe('useChat with FastpacaChatTransport and useFastpacaChatSync', () => {
  it('a reply streams in; then the list is the stored log, and a second tab shows it live', async () => {
    script = [{ text: 'Hi there, how can I help?', wordDelayMs: 10 }];
    const ctx = await client.context(uniqueId('ai-sync'), { budget: 10_000 });
    const tabA = openTab(ctx.id);
    const tabB = openTab(ctx.id);
    await waitFor(() => expect(tabB.result.current.view.status).toBe('live'));
    await act(() => tabA.result.current.chat.sendMessage({ text: 'Hello' }));
    await waitFor(() => expect(tabA.result.current.chat.status).toBe('ready'));
    const stored = await waitForStored(ctx.id, 2);
    await waitFor(() => expect(ids(tabA.result.current.chat.messages)).toEqual(ids(stored)));
    await waitFor(() => expect(ids(tabB.result.current.chat.messages)).toEqual(ids(stored)));
    expect(tabB.result.current.chat.messages.map(textOf)).toEqual(['Hello', 'Hi there, how can I help?']);
    tabA.unmount();
    tabB.unmount();
  });

  it('what another writer appends shows up; a fresh mount starts from the stored history', async () => {
    const ctx = await client.context(uniqueId('ai-sync-writer'), { budget: 10_000 });
    await ctx.append({ id: 'note-1', role: 'assistant', parts: [{ type: 'text', text: 'Welcome back.' }] });
    const tab = openTab(ctx.id);
    await waitFor(() => expect(ids(tab.result.current.chat.messages)).toEqual(['note-1']));
    await ctx.append({
      id: 'note-2',
      role: 'assistant',
      parts: [{ type: 'text', text: 'New: a reminder.' }],
    });
    await waitFor(() => expect(ids(tab.result.current.chat.messages)).toEqual(['note-1', 'note-2']));
    tab.unmount();
    const reloaded = openTab(ctx.id);
    await waitFor(() => expect(ids(reloaded.result.current.chat.messages)).toEqual(['note-1', 'note-2']));
    reloaded.unmount();
  });

  it('stop mid-reply: the partial reply is stored, marked partial, and the list shows the stored copy', async () => {
    script = [{ text: 'one two three four five six seven eight nine ten', wordDelayMs: 150 }];
    const ctx = await client.context(uniqueId('ai-sync-stop'), { budget: 10_000 });
    const tab = openTab(ctx.id);
    await waitFor(() => expect(tab.result.current.view.status).toBe('live'));
    let sending!: Promise<void>;
    act(() => {
      sending = tab.result.current.chat.sendMessage({ text: 'Count' });
    });
    await waitFor(() => expect(textOf(tab.result.current.chat.messages.at(-1)!)).toMatch(/two/), {
      timeout: 5_000,
    });
    await act(async () => {
      await tab.result.current.chat.stop();
      await sending;
    });
    const stored = await waitForStored(ctx.id, 2);
    expect(stored[1]?.metadata).toEqual({ partial: true });
    expect(textOf(stored[1]!)).not.toMatch(/ten/);
    await waitFor(() => expect(tab.result.current.chat.messages.at(-1)?.metadata).toEqual({ partial: true }));
    tab.unmount();
  });
});

describe('mergeChat', () => {
  const m = (id: string): UIMessage => ({ id, role: 'user', parts: [] });
  it('the log first, then what this tab has that the log does not have yet', () => {
    const log = [m('a'), m('b')];
    expect(ids(mergeChat(log, [m('a'), m('b'), m('c')]))).toEqual(['a', 'b', 'c']);
    expect(mergeChat(log, [m('a')])[1]).toBe(log[1]);
    // A message only this tab had, before the newest stored one, was dropped from the log's view (superseded).
    expect(ids(mergeChat(log, [m('x'), m('a'), m('b')]))).toEqual(['a', 'b']);
    expect(ids(mergeChat([], [m('a')]))).toEqual(['a']);
    // A reply regenerated in another tab: the stale one this tab still shows goes.
    expect(ids(mergeChat([m('u'), m('r2')], [m('u'), m('r1')], new Set(['r1'])))).toEqual(['u', 'r2']);
  });
});

async function waitForStored(id: string, count: number): Promise<UIMessage[]> {
  let stored: UIMessage[] = [];
  await waitFor(
    async () => {
      stored = await loadChat<UIMessage>(client.contextHandle(id));
      expect(stored).toHaveLength(count);
    },
    { timeout: 5_000 },
  );
  return stored;
}
