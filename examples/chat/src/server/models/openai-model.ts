import type { WindowMessage } from '@fastpaca/sdk';
import { type ChatModel, textOf } from './chat-model.js';

const systemPrompt =
  'You are a helpful assistant in a chat demo of Fastpaca, a store for LLM conversations. Answer concisely.';

const summaryPrompt =
  'Summarize the conversation above in at most 120 words for your own future reference. Keep names, facts, decisions and open questions.';

/** A model reply longer than this many characters is cut off; every loop has a bound. */
const replyCharsMax = 200_000;
const errorBodyCharsMax = 500;

interface ChatCompletionMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The window as chat-completion messages; roles a chat model does not take are left out. */
export function toCompletionMessages(messages: readonly WindowMessage[]): ChatCompletionMessage[] {
  const out: ChatCompletionMessage[] = [];
  for (const message of messages) {
    if (message.role !== 'system' && message.role !== 'user' && message.role !== 'assistant') continue;
    const content = textOf(message);
    if (content) out.push({ role: message.role, content });
  }
  return out;
}

/** Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, a local llama.cpp or vLLM server, a gateway). */
export class OpenAIModel implements ChatModel {
  readonly name: string;

  constructor(private readonly options: { baseUrl: string; apiKey: string; model: string }) {
    this.name = options.model;
  }

  async *reply(messages: readonly WindowMessage[], signal: AbortSignal): AsyncGenerator<string> {
    const response = await this.complete(
      [{ role: 'system', content: systemPrompt }, ...toCompletionMessages(messages)],
      true,
      signal,
    );
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffered += value;
        if (buffered.length > replyCharsMax) throw new Error('the model endpoint sent an oversized event');
        // Server-sent events: one `data:` line per chunk, `[DONE]` at the end.
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') return;
          const delta = (JSON.parse(data) as { choices?: { delta?: { content?: unknown } }[] }).choices?.[0]
            ?.delta?.content;
          if (typeof delta !== 'string' || delta === '') continue;
          total += delta.length;
          if (total > replyCharsMax) return;
          yield delta;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  async summarize(messages: readonly WindowMessage[], signal: AbortSignal): Promise<string> {
    const response = await this.complete(
      [...toCompletionMessages(messages), { role: 'user', content: summaryPrompt }],
      false,
      signal,
    );
    const body = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
    const summary = body.choices?.[0]?.message?.content;
    if (typeof summary !== 'string' || summary.trim() === '')
      throw new Error('the model returned no summary');
    return `Summary of the conversation so far: ${summary.trim()}`;
  }

  private async complete(
    messages: ChatCompletionMessage[],
    stream: boolean,
    signal: AbortSignal,
  ): Promise<Response> {
    const response = await fetch(`${this.options.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: this.options.model, stream, messages }),
      signal,
    });
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, errorBodyCharsMax);
      throw new Error(`the model endpoint answered ${response.status}: ${detail}`);
    }
    return response;
  }
}
