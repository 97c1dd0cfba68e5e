import { MockLanguageModelV3 } from 'ai/test';

/** One step of a scripted model: what it thinks, which tools it calls, what it says. */
export interface ScriptedStep {
  reasoning?: string;
  toolCalls?: { id: string; name: string; input: unknown }[];
  text?: string;
  /** Milliseconds between text words (a slow model, to stop mid-reply). */
  wordDelayMs?: number;
}

type StreamPart = Record<string, unknown> & { type: string };
type ProviderStream = Awaited<ReturnType<MockLanguageModelV3['doStream']>>['stream'];

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 10, text: 10, reasoning: undefined },
};

function partsOf(step: ScriptedStep): StreamPart[] {
  const parts: StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  if (step.reasoning !== undefined) {
    parts.push({ type: 'reasoning-start', id: 'r' });
    parts.push({ type: 'reasoning-delta', id: 'r', delta: step.reasoning });
    parts.push({ type: 'reasoning-end', id: 'r' });
  }
  if (step.text !== undefined) {
    parts.push({ type: 'text-start', id: 't' });
    for (const word of step.text.split(/(?<= )/)) parts.push({ type: 'text-delta', id: 't', delta: word });
    parts.push({ type: 'text-end', id: 't' });
  }
  for (const call of step.toolCalls ?? []) {
    parts.push({
      type: 'tool-call',
      toolCallId: call.id,
      toolName: call.name,
      input: JSON.stringify(call.input),
    });
  }
  const unified = step.toolCalls?.length ? 'tool-calls' : 'stop';
  parts.push({ type: 'finish', finishReason: { unified, raw: unified }, usage });
  return parts;
}

/** A language model that plays `steps` in order, one per model call, honouring the abort signal. */
export function scriptedModel(steps: ScriptedStep[]): MockLanguageModelV3 {
  let next = 0;
  return new MockLanguageModelV3({
    doStream: async ({ abortSignal }) => {
      const step = steps[Math.min(next++, steps.length - 1)]!;
      const parts = partsOf(step);
      const stream = new ReadableStream<StreamPart>({
        async start(controller) {
          for (const part of parts) {
            if (abortSignal?.aborted) {
              controller.error(abortSignal.reason);
              return;
            }
            if (part.type === 'text-delta' && step.wordDelayMs) {
              await new Promise((resolve) => setTimeout(resolve, step.wordDelayMs));
            }
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
