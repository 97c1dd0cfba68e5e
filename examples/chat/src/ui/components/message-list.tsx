import type { ChatMessage, ViewStatus } from '@fastpaca/sdk-react';
import { useCallback, useEffect, useLayoutEffect, useRef } from 'react';
import { MessageBubble } from './message-bubble.js';

interface MessageListProps {
  messages: ChatMessage[];
  status: ViewStatus;
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder: () => Promise<void>;
  onSuggestion: (text: string) => void;
  canSend: boolean;
}

const suggestions = ['What is Fastpaca?', 'Tell me a long story', 'How does compaction work?'];

/** Pixels from the bottom within which the list follows new messages. */
const stickyPx = 80;

export function MessageList({
  messages,
  status,
  hasOlder,
  loadingOlder,
  loadOlder,
  onSuggestion,
  canSend,
}: MessageListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<number | undefined>(undefined);
  const first = messages[0]?.id;
  const last = messages.at(-1);
  const lastLength = last ? last.parts.length + JSON.stringify(last.parts).length : 0;

  // Older messages go on top; keep what the reader was looking at in place.
  const loadEarlier = useCallback(() => {
    const el = scroller.current;
    if (el && anchor.current === undefined) anchor.current = el.scrollHeight - el.scrollTop;
    void loadOlder();
  }, [loadOlder]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || loadingOlder || anchor.current === undefined) return;
    if (first !== undefined) el.scrollTop = el.scrollHeight - anchor.current;
    anchor.current = undefined;
  }, [first, loadingOlder]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current && last !== undefined && lastLength >= 0) el.scrollTop = el.scrollHeight;
  }, [last, lastLength]);

  // The list shrinks when the bar above grows (a note appears): stay at the bottom if that is where the reader was.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Infinite scroll: reaching the top loads the page before it.
  useEffect(() => {
    const target = sentinel.current;
    if (!target || !hasOlder) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !atBottom.current) loadEarlier();
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasOlder, loadEarlier]);

  return (
    <main
      className="messages"
      ref={scroller}
      onScroll={(event) => {
        const el = event.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < stickyPx;
      }}
      aria-live="polite"
    >
      <div className="messages-inner">
        {hasOlder ? (
          <div ref={sentinel} className="older">
            <button
              type="button"
              className="button button-ghost"
              onClick={loadEarlier}
              disabled={loadingOlder}
            >
              {loadingOlder ? 'Loading…' : 'Load earlier messages'}
            </button>
          </div>
        ) : messages.length > 0 ? (
          <div className="older older-start">Beginning of the conversation</div>
        ) : null}
        {messages.length === 0 && status !== 'loading' ? (
          <div className="empty">
            <h2>Start the conversation</h2>
            <p>
              Every message is stored in Fastpaca as it is sent. Reload the page, open it in a second tab, or
              stop a reply halfway: nothing you saw is lost.
            </p>
            <div className="suggestions">
              {suggestions.map((text) => (
                <button
                  key={text}
                  type="button"
                  className="chip"
                  disabled={!canSend}
                  onClick={() => onSuggestion(text)}
                >
                  {text}
                </button>
              ))}
            </div>
          </div>
        ) : null}
        {messages.length === 0 && status === 'loading' ? (
          <div className="empty muted">Loading the conversation…</div>
        ) : null}
        {messages.map((message) => (
          <MessageBubble key={message.key} message={message} />
        ))}
      </div>
    </main>
  );
}
