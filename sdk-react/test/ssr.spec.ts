// @vitest-environment node
import { ContextHandle, createClient } from '@fastpaca/sdk';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { peekStore } from '../src/core/store-registry.js';
import { FastpacaProvider, useContextMessages, useContextWindow, useFastpacaChat } from '../src/index.js';

function Chat() {
  const chat = useFastpacaChat('ssr', { send: async () => undefined });
  const { used_tokens } = useContextWindow('ssr');
  const idle = useContextMessages(null);
  return createElement(
    'p',
    null,
    `${chat.logStatus}:${chat.status}:${chat.messages.length}:${used_tokens ?? '-'}:${idle.status}`,
  );
}

function Orphan() {
  useContextMessages('x');
  return null;
}

describe('server rendering – hooks', () => {
  it('renders the loading state and starts nothing: no request, no socket, no store', () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const subscribe = vi.spyOn(ContextHandle.prototype, 'subscribe');
    const client = createClient({ baseUrl: 'http://127.0.0.1:9', fetch });
    const html = renderToString(createElement(FastpacaProvider, { client }, createElement(Chat)));
    expect(html).toBe('<p>loading:ready:0:-:idle</p>');
    expect(fetch).not.toHaveBeenCalled();
    expect(subscribe).not.toHaveBeenCalled();
    expect(peekStore(client, 'ssr')).toBeUndefined();
  });

  it('a hook outside the provider is a programmer error that names the fix', () => {
    expect(() => renderToString(createElement(Orphan))).toThrow(/FastpacaProvider/);
  });
});
