import { ConflictError, type ContextHandle, type Window, type WindowMessage } from '@fastpaca/sdk';
import type { FakeModel } from './fake-model.js';
import { tools } from './tools.js';

export interface AgentOptions {
  ctx: ContextHandle;
  model: FakeModel;
  /** The loop's bound: a model that never answers is stopped here. */
  maxSteps?: number;
  log?: (line: string) => void;
}

export interface AgentResult {
  answer: string;
  steps: number;
  toolCalls: number;
  compactions: number;
}

/**
 * The newest messages to keep verbatim when compacting: from the last
 * assistant message on (a step's calls and results are one message, so they
 * are kept or summarized together).
 */
export function recentUnit(messages: readonly WindowMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'assistant') return i;
  return messages.length;
}

/**
 * Manual compaction: the context uses the `manual` policy, so the store never
 * trims on its own; when `needs_compaction` is set the agent replaces the
 * older part of its window with a summary. `ifVersion` makes the swap
 * atomic; a conflict means something was appended meanwhile, so it reads the
 * window again and retries (at most three times).
 */
export async function compact(ctx: ContextHandle, model: FakeModel, window: Window): Promise<Window> {
  for (let attempt = 1; ; attempt++) {
    const keepFrom = recentUnit(window.messages);
    const older = window.messages.slice(0, keepFrom);
    const recent = window.messages.slice(keepFrom).map((m) => ({
      role: m.role,
      parts: m.parts,
      metadata: m.metadata,
      token_count: m.token_count,
    }));
    try {
      await ctx.compact([model.summarize(older), ...recent], { ifVersion: window.version });
      return await ctx.context();
    } catch (error) {
      if (!ConflictError.isInstance(error) || attempt >= 3) throw error;
      window = await ctx.context();
    }
  }
}

/**
 * The agent loop: every step reads the LLM window (never the whole history),
 * compacts it when it is over the trigger, asks the model, and appends what
 * happened (tool calls, tool results, the answer) to the log.
 */
export async function runAgent(task: string, options: AgentOptions): Promise<AgentResult> {
  const { ctx, model } = options;
  const maxSteps = options.maxSteps ?? 50;
  const log = options.log ?? (() => {});
  let toolCalls = 0;
  let compactions = 0;
  await ctx.append({ role: 'user', parts: [{ type: 'text', text: task }] });
  log(`task: ${task}`);
  for (let step = 1; step <= maxSteps; step++) {
    let window = await ctx.context();
    if (window.needs_compaction) {
      const before = window.used_tokens;
      const summarized = recentUnit(window.messages);
      window = await compact(ctx, model, window);
      compactions++;
      log(
        `step ${step}: compacted ${summarized} messages into a summary, ${before} → ${window.used_tokens} tokens`,
      );
    }
    const decision = model.next(window.messages);
    if (decision.type === 'answer') {
      await ctx.append({ role: 'assistant', parts: [{ type: 'text', text: decision.text }] });
      log(`step ${step}: answer: ${decision.text}`);
      return { answer: decision.text, steps: step, toolCalls, compactions };
    }
    // The calls and their results are one message, appended once: a crash can never keep a call
    // without its result. Parts are in the AI SDK's UI shape (`tool-<name>` with input and output),
    // so the log converts with `toUIMessages` and `convertToModelMessages` as it is.
    const parts = decision.calls.map((call) => ({
      type: `tool-${call.name}`,
      toolCallId: call.id,
      state: 'output-available',
      input: call.input,
      output: tools[call.name](call.input),
    }));
    toolCalls += parts.length;
    await ctx.append({ role: 'assistant', parts });
    const names = decision.calls.map((call) => `${call.name}(${call.input.city})`).join(', ');
    log(`step ${step}: ${names}  · window ${window.used_tokens} tokens before this step`);
  }
  throw new Error(`the agent did not answer within ${maxSteps} steps`);
}
