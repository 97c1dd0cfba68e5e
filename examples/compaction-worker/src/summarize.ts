import type { MessageInput, WindowMessage } from '@fastpaca/sdk';

/** Turns the older part of a window into the messages that replace it. */
export type Summarizer = (messages: readonly WindowMessage[]) => Promise<MessageInput[]>;

function firstSentence(message: WindowMessage): string {
  const text = message.parts
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const sentence = /^.*?[.!?](\s|$)/.exec(text)?.[0]?.trim() ?? text;
  return sentence.length > 80 ? `${sentence.slice(0, 79)}…` : sentence;
}

/**
 * A deterministic summarizer, so the example runs offline: one line per
 * message (its first sentence), at most `linesMax` lines. In production this
 * is a call to your model.
 */
export function offlineSummarizer(linesMax = 8): Summarizer {
  return async (messages) => {
    const lines = messages
      .filter((m) => m.parts.some((p) => p.type === 'text'))
      .slice(-linesMax)
      .map((m) => `- ${m.role}: ${firstSentence(m)}`);
    return [
      {
        role: 'system',
        parts: [
          { type: 'text', text: [`Summary of ${messages.length} earlier messages:`, ...lines].join('\n') },
        ],
        metadata: { summary: true, summarized: messages.length },
      },
    ];
  };
}
