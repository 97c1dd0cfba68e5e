import { createClient, type FastpacaClient } from '@fastpaca/sdk';
import { renderHook, waitFor } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useContextMessages, useContextWindow } from '../../src/index.js';
import { providerWrapper } from '../support/render.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({
    baseUrl: server.url,
    retry: { maxAttempts: 20, baseDelayMs: 50, maxDelayMs: 500 },
  });
});
afterAll(() => stopServer(server));

function useView(id: string) {
  return { messages: useContextMessages(id), window: useContextWindow(id) };
}

describe('useContextMessages – reconnect', () => {
  it('a server killed and restarted mid-conversation: the view resumes with every message once', async () => {
    const ctx = await client.context(uniqueId('restart'), { budget: 10_000 });
    for (const word of ['one', 'two', 'three']) await ctx.append(text(word));
    const { result, unmount } = renderHook(() => useView(ctx.id), { wrapper: providerWrapper(client) });
    await waitFor(() => expect(result.current.messages.status).toBe('live'));
    expect(result.current.messages.messages.map((m) => m.seq)).toEqual([1, 2, 3]);

    const { port, dataDir } = server;
    await server.kill();
    await waitFor(() => expect(result.current.messages.status).toBe('reconnecting'), { timeout: 5_000 });
    server = await startServer({ port, dataDir });
    // Appended while the view may still be reconnecting: it arrives by replay, gap fill or live.
    for (const word of ['four', 'five']) await ctx.append(text(word));
    await waitFor(() => expect(result.current.messages.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]), {
      timeout: 15_000,
    });
    await waitFor(() => expect(result.current.messages.status).toBe('live'), { timeout: 10_000 });
    await ctx.append(text('six'));
    await waitFor(() => expect(result.current.messages.messages).toHaveLength(6));
    const seqs = result.current.messages.messages.map((m) => m.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(result.current.messages.messages.map((m) => m.key)).size).toBe(6);
    // 3+3+5+4+4+3 characters, one token each: the window's numbers caught up too.
    await waitFor(() => expect(result.current.window.used_tokens).toBe(22));
    unmount();
  });
});
