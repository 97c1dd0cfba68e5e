import { ContextHandle, createClient, type FastpacaClient } from '@fastpaca/sdk';
import { act, render, renderHook, waitFor } from '@testing-library/react';
import { createElement } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { peekStore } from '../../src/core/store-registry.js';
import { useContextMessages, useContextWindow } from '../../src/index.js';
import { providerWrapper, textOf } from '../support/render.js';
import {
  openStreams,
  type ServerProcess,
  startServer,
  stopServer,
  text,
  uniqueId,
} from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));
afterEach(async () => {
  vi.restoreAllMocks();
  // Every test unmounts what it rendered; no socket may outlive it.
  await waitFor(async () => expect(await openStreams(server)).toBe(0), { timeout: 5_000 });
});

describe('useContextMessages – live', () => {
  it('shows the latest page, then messages as they are appended, each once and in seq order', async () => {
    const ctx = await client.context(uniqueId('live'), { budget: 10_000 });
    await ctx.append(text('first'));
    const { result, unmount } = renderHook(() => useContextMessages(ctx.id), {
      wrapper: providerWrapper(client),
    });
    expect(result.current.status).toBe('loading');
    await waitFor(() => expect(result.current.status).toBe('live'));
    expect(result.current.messages.map(textOf)).toEqual(['first']);
    for (const word of ['second', 'third']) await ctx.append(text(word));
    await waitFor(() => expect(result.current.messages).toHaveLength(3));
    expect(result.current.messages.map((m) => [m.seq, textOf(m), m.state])).toEqual([
      [1, 'first', 'committed'],
      [2, 'second', 'committed'],
      [3, 'third', 'committed'],
    ]);
    unmount();
  });

  it('loadOlder pages back to seq 1, one page at a time, while live appends keep arriving', async () => {
    const ctx = await client.context(uniqueId('older'), { budget: 100_000 });
    for (let i = 1; i <= 25; i++) await ctx.append(text(`m${i}`));
    const { result, unmount } = renderHook(() => useContextMessages(ctx.id, { pageSize: 10 }), {
      wrapper: providerWrapper(client),
    });
    await waitFor(() => expect(result.current.status).toBe('live'));
    const seqs = () => result.current.messages.map((m) => m.seq);
    expect(seqs()).toEqual(range(16, 25));
    expect(result.current.hasOlder).toBe(true);

    await act(() => result.current.loadOlder());
    expect(seqs()).toEqual(range(6, 25));
    await ctx.append(text('m26'));
    await waitFor(() => expect(seqs()).toEqual(range(6, 26)));
    await act(() => result.current.loadOlder());
    expect(seqs()).toEqual(range(1, 26));
    expect(result.current.hasOlder).toBe(false);
    await act(() => result.current.loadOlder());
    expect(seqs()).toEqual(range(1, 26));
    unmount();
  });

  it('one subscription per context however many components show it; the last unmount closes it', async () => {
    const ctx = await client.context(uniqueId('shared'), { budget: 10_000 });
    const subscribe = vi.spyOn(ContextHandle.prototype, 'subscribe');
    const wrapper = providerWrapper(client);
    const a = render(createElement(Pane, { id: ctx.id }), { wrapper });
    const b = render(createElement(Pane, { id: ctx.id }), { wrapper });
    await waitFor(() => expect(peekStore(client, ctx.id)?.getMessagesSnapshot().status).toBe('live'));
    await ctx.append(text('hello'));
    await waitFor(() => expect(a.container.textContent).toBe('1/5'));
    expect(b.container.textContent).toBe('1/5');
    expect(subscribe).toHaveBeenCalledTimes(1);
    expect(await openStreams(server)).toBe(1);

    a.unmount();
    await sleep(50);
    expect(await openStreams(server)).toBe(1);
    const store = peekStore(client, ctx.id)!;
    b.unmount();
    await store.whenStreamClosed();
    await waitFor(async () => expect(await openStreams(server)).toBe(0));
    expect(peekStore(client, ctx.id)).toBeUndefined();
  });

  it('StrictMode double-mount leaves one subscription, and unmount closes it', async () => {
    const ctx = await client.context(uniqueId('strict'), { budget: 10_000 });
    const subscribe = vi.spyOn(ContextHandle.prototype, 'subscribe');
    const { result, unmount } = renderHook(() => useContextMessages(ctx.id), {
      wrapper: providerWrapper(client, { strict: true }),
    });
    await waitFor(() => expect(result.current.status).toBe('live'));
    await ctx.append(text('strict'));
    await waitFor(() => expect(result.current.messages.map(textOf)).toEqual(['strict']));
    expect(subscribe).toHaveBeenCalledTimes(1);
    expect(await openStreams(server)).toBe(1);
    unmount();
    await waitFor(async () => expect(await openStreams(server)).toBe(0));
  });

  it('an unknown context ends in status error with the typed error', async () => {
    const id = uniqueId('missing');
    const { result, unmount } = renderHook(() => useContextMessages(id), {
      wrapper: providerWrapper(client),
    });
    await waitFor(() => expect(result.current.status).toBe('error'));
    expect(result.current.error?.name).toBe('NotFoundError');
    unmount();
  });

  it('a null id renders idle and opens nothing', async () => {
    const subscribe = vi.spyOn(ContextHandle.prototype, 'subscribe');
    const { result, unmount } = renderHook(() => useContextMessages(null), {
      wrapper: providerWrapper(client),
    });
    expect(result.current.status).toBe('idle');
    await sleep(50);
    expect(subscribe).not.toHaveBeenCalled();
    unmount();
  });
});

/** A component that shows both slices of one context. */
function Pane({ id }: { id: string }) {
  const { messages } = useContextMessages(id);
  const { used_tokens } = useContextWindow(id);
  return createElement('p', null, `${messages.length}/${used_tokens ?? '-'}`);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
