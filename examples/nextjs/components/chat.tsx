'use client';

import { useChat } from '@ai-sdk/react';
import { createClient, type TokenGrant } from '@fastpaca/sdk';
import { FastpacaProvider } from '@fastpaca/sdk-react';
import { FastpacaChatTransport, useFastpacaChatSync } from '@fastpaca/sdk-react/ai';
import type { UIMessage } from 'ai';
import { type FormEvent, useMemo, useState } from 'react';
import { MessagePart } from './message-parts';

interface ChatProps {
  id: string;
  initialMessages: UIMessage[];
  storeUrl: string;
}

/**
 * Asks this app for a read-only token for the chat. Returning the grant with
 * its `expires_at` lets the client reuse it until shortly before it expires.
 */
function tokenSource(id: string): () => Promise<TokenGrant> {
  return async () => {
    const response = await fetch(`/api/chat/${encodeURIComponent(id)}/token`, { method: 'POST' });
    if (!response.ok) throw new Error(`token request failed with ${response.status}`);
    return (await response.json()) as TokenGrant;
  };
}

export function Chat({ id, initialMessages, storeUrl }: ChatProps) {
  const client = useMemo(() => createClient({ baseUrl: storeUrl, token: tokenSource(id) }), [id, storeUrl]);
  return (
    <FastpacaProvider client={client}>
      <ChatView id={id} initialMessages={initialMessages} />
    </FastpacaProvider>
  );
}

function ChatView({ id, initialMessages }: Omit<ChatProps, 'storeUrl'>) {
  const [transport] = useState(() => new FastpacaChatTransport<UIMessage>({ api: '/api/chat' }));
  const chat = useChat<UIMessage>({ id, messages: initialMessages, transport });
  const view = useFastpacaChatSync(id, chat);
  const [input, setInput] = useState('');
  const busy = chat.status === 'submitted' || chat.status === 'streaming';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = input.trim();
    if (!text || busy) return;
    setInput('');
    void chat.sendMessage({ text });
  };

  return (
    <main className="chat">
      <header>
        <h1>Fastpaca chat</h1>
        <span className="status" data-testid="connection-status" data-status={view.status}>
          {view.status}
        </span>
      </header>
      <ol className="messages">
        {chat.messages.map((message) => (
          <li
            key={message.id}
            className={`message ${message.role}`}
            data-testid="message"
            data-id={message.id}
            data-role={message.role}
            data-partial={String((message.metadata as { partial?: boolean } | undefined)?.partial === true)}
          >
            {message.parts.map((part, i) => (
              // Parts have no ids; their order within a message never changes.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <MessagePart key={i} part={part} />
            ))}
          </li>
        ))}
      </ol>
      {chat.error && (
        <p className="error" role="alert" data-testid="chat-error">
          {chat.error.message}
        </p>
      )}
      <form onSubmit={submit}>
        <input
          data-testid="composer-input"
          value={input}
          onChange={(event) => setInput(event.target.value)}
          placeholder="Say something"
          maxLength={8000}
        />
        {busy ? (
          <button type="button" data-testid="stop" onClick={() => void chat.stop()}>
            Stop
          </button>
        ) : (
          <button type="submit" data-testid="send">
            Send
          </button>
        )}
      </form>
    </main>
  );
}
