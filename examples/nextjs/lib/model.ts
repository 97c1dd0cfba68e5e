import { type LanguageModel, tool } from 'ai';
import { z } from 'zod';
import { offlineModel } from './offline-model';
import { settings } from './settings';

/** The model the chat route calls. Replace with a provider's, e.g. `openai('gpt-4.1-mini')`. */
export function chatModel(): LanguageModel {
  return offlineModel(settings().offlineDelayMs);
}

export const tools = {
  clock: tool({
    description: 'The current time, as an ISO 8601 string',
    inputSchema: z.object({}),
    execute: async () => ({ time: new Date().toISOString() }),
  }),
};
