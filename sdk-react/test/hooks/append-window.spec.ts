import { ConflictError, createClient, type FastpacaClient } from '@fastpaca/sdk';
import { act, renderHook, waitFor } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useAppend, useContextMessages, useContextWindow } from '../../src/index.js';
import { providerWrapper, textOf } from '../support/render.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));

function useComposer(id: string) {
  return { view: useContextMessages(id), append: useAppend(id) };
}

describe('useAppend – optimistic', () => {
  it('shows the message at once, then reconciles it with its committed seq under the same key', async () => {
    const ctx = await client.context(uniqueId('optimistic'), { budget: 10_000 });
    await ctx.append(text('before'));
    const { result, unmount } = renderHook(() => useComposer(ctx.id), { wrapper: providerWrapper(client) });
    await waitFor(() => expect(result.current.view.status).toBe('live'));

    let appended!: Promise<unknown>;
    act(() => {
      appended = result.current.append.append(text('hello'));
    });
    const optimistic = result.current.view.messages.at(-1)!;
    expect(optimistic).toMatchObject({ seq: null, state: 'sending', role: 'user' });
    expect(textOf(optimistic)).toBe('hello');
    expect(result.current.append.pending).toBe(1);

    await act(async () => {
      await appended;
    });
    expect(result.current.append.pending).toBe(0);
    await waitFor(() => expect(result.current.view.messages.at(-1)?.state).toBe('committed'));
    const rows = result.current.view.messages;
    expect(rows.map((m) => [m.seq, textOf(m)])).toEqual([
      [1, 'before'],
      [2, 'hello'],
    ]);
    expect(rows[1]!.key).toBe(optimistic.key);
    unmount();
  });

  it('a UI message is reconciled by its id, and appending it again stores it once', async () => {
    const ctx = await client.context(uniqueId('ui'), { budget: 10_000 });
    const { result, unmount } = renderHook(() => useComposer(ctx.id), { wrapper: providerWrapper(client) });
    await waitFor(() => expect(result.current.view.status).toBe('live'));
    const message = { id: 'ui-1', role: 'user', parts: [{ type: 'text', text: 'from useChat' }] };
    await act(async () => {
      await result.current.append.append(message);
      await result.current.append.append(message);
    });
    await waitFor(() => expect(result.current.view.messages.map((m) => m.state)).toEqual(['committed']));
    expect(result.current.view.messages[0]).toMatchObject({ key: 'ui:ui-1', seq: 1 });
    unmount();
  });

  it('rolls the message back and reports the typed error on 409', async () => {
    const ctx = await client.context(uniqueId('conflict'), { budget: 10_000 });
    await ctx.append(text('v1'));
    const { result, unmount } = renderHook(() => useComposer(ctx.id), { wrapper: providerWrapper(client) });
    await waitFor(() => expect(result.current.view.status).toBe('live'));

    let appended!: Promise<unknown>;
    act(() => {
      appended = result.current.append.append(text('stale'), { ifVersion: 0 });
    });
    expect(result.current.view.messages.map((m) => m.state)).toEqual(['committed', 'sending']);
    let failure: unknown;
    await act(async () => {
      failure = await appended.catch((error: unknown) => error);
    });
    expect(ConflictError.isInstance(failure)).toBe(true);
    expect((failure as ConflictError).found).toBe(1);
    expect(result.current.append.error).toBe(failure);
    expect(result.current.view.messages.map(textOf)).toEqual(['v1']);
    act(() => result.current.append.reset());
    expect(result.current.append.error).toBeUndefined();
    unmount();
  });
});

describe('useContextWindow – live numbers', () => {
  it('follows used_tokens and needs_compaction, and drops when the window is compacted', async () => {
    const ctx = await client.context(uniqueId('window'), {
      budget: 100,
      trigger: 0.5,
      policy: { strategy: 'manual' },
    });
    const { result, unmount } = renderHook(() => useContextWindow(ctx.id), {
      wrapper: providerWrapper(client),
    });
    await waitFor(() => expect(result.current.status).toBe('live'));
    expect(result.current).toMatchObject({
      used_tokens: 0,
      needs_compaction: false,
      token_budget: 100,
      trigger_ratio: 0.5,
    });

    await ctx.append(text('x'.repeat(30)));
    await waitFor(() => expect(result.current.used_tokens).toBe(30));
    expect(result.current.needs_compaction).toBe(false);
    await ctx.append(text('y'.repeat(30)));
    await waitFor(() => expect(result.current.needs_compaction).toBe(true));
    expect(result.current).toMatchObject({ used_tokens: 60, version: 2 });

    await ctx.compact([text('summary', 'system')], { ifVersion: 2 });
    await waitFor(() => expect(result.current.used_tokens).toBe(7));
    expect(result.current).toMatchObject({ needs_compaction: false, version: 3 });
    unmount();
  });
});
