import type { AddressInfo } from 'node:net';
import { createClient, type FastpacaClient, ForbiddenError, type SubscriptionEvent } from '@fastpaca/sdk';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/server/backend.js';
import { ChatService } from '../src/server/chat-service.js';
import { OfflineModel, offlineReply } from '../src/server/models/offline-model.js';

const apiKey = 'chat-backend-test-key-0123456789';
let store: ServerProcess;
let admin: FastpacaClient;
let backend: ReturnType<typeof createBackend>;
let url: string;

beforeAll(async () => {
  store = await startServerProcess({ env: { FASTPACA_API_KEY: apiKey } });
  admin = createClient({ baseUrl: store.url, apiKey });
  const service = new ChatService({
    client: admin,
    model: new OfflineModel(5),
    tokenBudget: 2_000,
    triggerRatio: 0.7,
  });
  backend = createBackend({ service, storeUrl: store.url, tokenBudget: 2_000, triggerRatio: 0.7 });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
});
afterAll(async () => {
  backend?.closeAllConnections();
  await new Promise((resolve) => backend?.close(resolve));
  await store?.stop();
  store?.cleanup();
});

let counter = 0;
const chatId = () => `backend-${Date.now().toString(36)}-${++counter}`;
const turn = (text: string, id = `u${++counter}`, assistant = `a${counter}`) => ({
  message: { id, role: 'user', parts: [{ type: 'text', text }] },
  assistant_message_id: assistant,
});
const post = (path: string, body?: unknown, signal?: AbortSignal) =>
  fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
const text = (m: { parts: { type: string; text?: unknown }[] }) =>
  m.parts.map((p) => String(p.text)).join('');

describe('chat backend – turns', () => {
  it('streams the reply as text and stores the user message and the reply under their UI ids', async () => {
    const id = chatId();
    const response = await post(`/api/chats/${id}/turns`, turn('Hello backend', 'user-1', 'reply-1'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const reply = await response.text();
    expect(reply).toContain('You said “Hello backend”.');
    const { messages } = await admin.contextHandle(id).getTail();
    expect(messages.map((m) => [m.role, m.metadata.ui_message_id, text(m)])).toEqual([
      ['user', 'user-1', 'Hello backend'],
      ['assistant', 'reply-1', reply],
    ]);
    expect(messages[1]!.metadata.partial).toBeUndefined();
  });

  it('a client that goes away mid-reply: what was sent so far is stored, marked partial', async () => {
    const id = chatId();
    const controller = new AbortController();
    const response = await post(`/api/chats/${id}/turns`, turn('Tell me a long story'), controller.signal);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    while (seen.length < 80) seen += (await reader.read()).value ?? '';
    controller.abort();
    const ctx = admin.contextHandle(id);
    let stored: { metadata: Record<string, unknown>; parts: { type: string; text?: unknown }[] } | undefined;
    for (let i = 0; i < 100 && !stored; i++) {
      stored = (await ctx.getTail()).messages.find((m) => m.role === 'assistant');
      if (!stored) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(stored?.metadata).toMatchObject({ partial: true });
    const full = offlineReply([
      {
        seq: 1,
        role: 'user',
        parts: [{ type: 'text', text: 'Tell me a long story' }],
        metadata: {},
        token_count: 1,
        inserted_at: '',
      },
    ]);
    expect(text(stored!).startsWith(seen)).toBe(true);
    expect(full.startsWith(text(stored!))).toBe(true);
    expect(text(stored!).length).toBeLessThan(full.length);
  });

  it('rejects malformed turns with 400 and names the field', async () => {
    const id = chatId();
    const bad = await post(`/api/chats/${id}/turns`, { message: { id: 'x', role: 'assistant', parts: [] } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: 'invalid_request',
      message: expect.stringContaining('assistant_message_id'),
    });
    expect((await post('/api/chats/bad%20id/token')).status).toBe(400);
  });

  it('"compact now" replaces the window with a summary; the log is untouched', async () => {
    const id = chatId();
    for (const words of ['one', 'two', 'three'])
      await (await post(`/api/chats/${id}/turns`, turn(`Message ${words}`))).text();
    const response = await post(`/api/chats/${id}/compact`);
    const result = (await response.json()) as {
      compacted: boolean;
      summarized: number;
      used_tokens_before: number;
      used_tokens_after: number;
    };
    expect(result).toMatchObject({ compacted: true, summarized: 4 });
    expect(result.used_tokens_after).toBeLessThan(result.used_tokens_before);
    const ctx = admin.contextHandle(id);
    const window = await ctx.context();
    expect(window.used_tokens).toBe(result.used_tokens_after);
    expect(window.messages).toHaveLength(3);
    expect(text(window.messages[0]!)).toMatch(/^Summary of 4 earlier messages\./);
    expect((await ctx.get()).last_seq).toBe(6);
  });
});

describe('chat backend – the page’s access to the store', () => {
  it('hands out read-only tokens for one chat; /v1 and the websocket pass through with them', async () => {
    const id = chatId();
    const { token } = (await (await post(`/api/chats/${id}/token`)).json()) as { token: string };
    const page = createClient({ baseUrl: url, token, retry: false });
    const ctx = page.contextHandle(id);
    const info = await ctx.get();
    expect(info.id).toBe(id);
    await expect(ctx.append({ role: 'user', parts: [{ type: 'text', text: 'sneaky' }] })).rejects.toSatisfy(
      ForbiddenError.isInstance,
    );
    await expect(page.contextHandle(`${id}-other`).get()).rejects.toSatisfy(ForbiddenError.isInstance);

    const events: SubscriptionEvent[] = [];
    const stream = ctx.subscribe({
      cursor: info.version,
      lastSeq: info.last_seq,
      onEvent: (event) => void events.push(event),
    });
    await (await post(`/api/chats/${id}/turns`, turn('Through the proxy'))).text();
    for (let i = 0; i < 200 && events.filter((e) => e.type === 'message').length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stream.abort();
    expect(
      events.filter((e) => e.type === 'message').map((e) => (e.type === 'message' ? e.message.role : '')),
    ).toEqual(['user', 'assistant']);
  });
});
