import { MockLanguageModelV3 } from 'ai/test';

/**
 * A stand-in model that needs no key or network, built on the AI SDK's mock
 * model: it thinks aloud, calls the `clock` tool, then answers with what the
 * user said and the time, a word at a time. Swap in any provider's model in
 * `lib/model.ts`.
 */
type Prompt = { role: string; content: unknown }[];
type StreamPart = Record<string, unknown> & { type: string };
type ProviderStream = Awaited<ReturnType<MockLanguageModelV3['doStream']>>['stream'];

const usage = {
  inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: undefined, text: undefined, reasoning: undefined },
};

function lastUserText(prompt: Prompt): string {
  const user = prompt.findLast((message) => message.role === 'user');
  const parts = Array.isArray(user?.content) ? (user.content as { type: string; text?: string }[]) : [];
  return parts.map((part) => (part.type === 'text' ? (part.text ?? '') : '')).join(' ');
}

function toolOutput(prompt: Prompt): string | undefined {
  const last = prompt.at(-1);
  if (last?.role !== 'tool' || !Array.isArray(last.content)) return undefined;
  const result = (last.content as { output?: { value?: { time?: string } } }[])[0];
  return result?.output?.value?.time;
}

function step(prompt: Prompt, callId: string): StreamPart[] {
  const said = lastUserText(prompt);
  const time = toolOutput(prompt);
  if (time === undefined) {
    return [
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: `They said “${said}”. I will check the clock first.` },
      { type: 'reasoning-end', id: 'r' },
      { type: 'tool-call', toolCallId: callId, toolName: 'clock', input: '{}' },
      { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage },
    ];
  }
  const words = `You said “${said}”. The clock says ${time}. This reply streams a word at a time so you can stop it.`;
  return [
    { type: 'text-start', id: 't' },
    ...words.split(/(?<= )/).map((delta) => ({ type: 'text-delta', id: 't', delta })),
    { type: 'text-end', id: 't' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
  ];
}

export function offlineModel(delayMs: number): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    provider: 'offline',
    modelId: 'echo-with-clock',
    doStream: async ({ prompt, abortSignal }) => {
      const parts = step(prompt as Prompt, `call-${crypto.randomUUID()}`);
      const stream = new ReadableStream<StreamPart>({
        async start(controller) {
          controller.enqueue({ type: 'stream-start', warnings: [] });
          for (const part of parts) {
            if (part.type === 'text-delta' && delayMs > 0) {
              await new Promise((resolve) => setTimeout(resolve, delayMs));
            }
            if (abortSignal?.aborted) return controller.error(abortSignal.reason);
            controller.enqueue(part);
          }
          controller.close();
        },
      });
      // The provider's stream part union is not exported by `ai`; the parts above follow it.
      return { stream: stream as unknown as ProviderStream };
    },
  });
}
