import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react';

interface ComposerProps {
  busy: boolean;
  disabled: boolean;
  onSend: (text: string) => Promise<void>;
  onStop: () => void;
}

export function Composer({ busy, disabled, onSend, onStop }: ComposerProps) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const value = text.trim();
    if (!value || busy || disabled) return;
    setText('');
    void onSend(value).finally(() => input.current?.focus());
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  };

  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        ref={input}
        data-testid="composer-input"
        value={text}
        rows={1}
        placeholder="Write a message…  (Enter to send, Shift+Enter for a new line)"
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        disabled={disabled}
        aria-label="Message"
      />
      {busy ? (
        <button type="button" className="button button-stop" data-testid="stop" onClick={onStop}>
          <span className="stop-square" aria-hidden="true" />
          Stop
        </button>
      ) : (
        <button
          type="submit"
          className="button button-primary"
          data-testid="send"
          disabled={disabled || text.trim() === ''}
        >
          Send
        </button>
      )}
    </form>
  );
}
