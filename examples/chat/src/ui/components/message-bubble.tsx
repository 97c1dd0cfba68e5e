import type { ChatMessage } from '@fastpaca/sdk-react';
import { memo } from 'react';

function textOf(message: ChatMessage): string {
  return message.parts
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

function footer(message: ChatMessage): string {
  switch (message.state) {
    case 'sending':
      return 'sending…';
    case 'streaming':
      return 'writing…';
    case 'sent':
      return 'saving…';
    default:
      return `#${message.seq}`;
  }
}

/** One message. Memoised: rows keep their object until they change, so a streaming reply re-renders only itself. */
export const MessageBubble = memo(function MessageBubble({ message }: { message: ChatMessage }) {
  const partial = message.metadata?.partial === true;
  return (
    <article
      className={`message message-${message.role} state-${message.state}`}
      data-testid="message"
      data-role={message.role}
      data-state={message.state}
      data-seq={message.seq ?? ''}
      data-partial={String(partial)}
    >
      {message.role === 'assistant' ? (
        <span className="avatar" aria-hidden="true">
          AI
        </span>
      ) : null}
      <div className="message-body">
        <div className="bubble">
          <span data-testid="message-text">{textOf(message)}</span>
          {message.state === 'streaming' ? <span className="caret" aria-hidden="true" /> : null}
        </div>
        <div className="message-meta">
          <span>{footer(message)}</span>
          {partial ? (
            <span className="tag" title="The reply was stopped; what was shown is kept.">
              stopped · partial
            </span>
          ) : null}
        </div>
      </div>
    </article>
  );
});
