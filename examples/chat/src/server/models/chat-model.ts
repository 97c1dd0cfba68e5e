import type { WindowMessage } from '@fastpaca/sdk';

/** What the backend needs from a model: a streamed reply to the window, and a summary for compaction. */
export interface ChatModel {
  /** Shown in the UI's header. */
  readonly name: string;
  /** Text deltas of the reply to the conversation in `messages` (the LLM window, oldest first). */
  reply(messages: readonly WindowMessage[], signal: AbortSignal): AsyncIterable<string>;
  /** A short summary of `messages`, to stand in for them in the window. */
  summarize(messages: readonly WindowMessage[], signal: AbortSignal): Promise<string>;
}

/** The text of a message: its text parts, joined. */
export function textOf(message: { parts: readonly { type: string; text?: unknown }[] }): string {
  return message.parts
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
