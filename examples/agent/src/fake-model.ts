import type { Part, WindowMessage } from '@fastpaca/sdk';
import { averageHigh, type ToolName, type WeatherReport } from './tools.js';

/** What the model asks for next: tool calls, or the final answer. */
export type Decision =
  | { type: 'tool_calls'; calls: { id: string; name: ToolName; input: { city: string } }[] }
  | { type: 'answer'; text: string };

/** What the agent has learned so far; a summary carries it across a compaction. */
export interface Facts {
  task: string;
  cities: string[];
  /** Average daytime high per city, in °C. */
  highs: Record<string, number>;
}

/** Tool calls per step: two at a time shows parallel calls without finishing too quickly. */
const callsPerStep = 2;

function textOf(message: WindowMessage): string {
  return message.parts
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** Cities named in a task such as "Compare the weather in Lisbon, Porto and Rome". */
export function citiesIn(task: string): string[] {
  const list = /\bin ([^.?!]+)/i.exec(task)?.[1] ?? '';
  return list
    .split(/,|\band\b/)
    .map((city) => city.trim())
    .filter(Boolean);
}

/**
 * Reads what the window knows: the task (from the user's message or an
 * earlier summary), and every weather result (from tool results or a summary).
 */
export function factsOf(messages: readonly WindowMessage[]): Facts {
  const facts: Facts = { task: '', cities: [], highs: {} };
  for (const message of messages) {
    for (const part of message.parts) {
      if (part.type === 'data-facts') {
        const carried = (part as Part & { data: Facts }).data;
        facts.task = carried.task;
        facts.cities = carried.cities;
        Object.assign(facts.highs, carried.highs);
      } else if (part.type === 'tool-weather' && part.state === 'output-available') {
        const report = (part as Part & { output: WeatherReport }).output;
        facts.highs[report.city] = averageHigh(report);
      }
    }
    if (message.role === 'user' && !facts.task) {
      facts.task = textOf(message);
      facts.cities = citiesIn(facts.task);
    }
  }
  return facts;
}

/**
 * A scripted model, deterministic so the example runs offline: it asks for
 * the weather of every city in the task, two at a time, then answers. It
 * only ever looks at the window it is given, as a real model would.
 */
export class FakeModel {
  private calls = 0;

  next(messages: readonly WindowMessage[]): Decision {
    const facts = factsOf(messages);
    if (facts.cities.length === 0) return { type: 'answer', text: 'Which cities should I compare?' };
    const missing = facts.cities.filter((city) => facts.highs[city] === undefined);
    if (missing.length > 0) {
      return {
        type: 'tool_calls',
        calls: missing.slice(0, callsPerStep).map((city) => ({
          id: `call_${++this.calls}`,
          name: 'weather' as const,
          input: { city },
        })),
      };
    }
    const ranked = [...facts.cities].sort((a, b) => facts.highs[b]! - facts.highs[a]!);
    const list = ranked.map((city) => `${city} ${facts.highs[city]!.toFixed(1)}°C`).join(', ');
    return {
      type: 'answer',
      text: `Warmest this week: ${ranked[0]} (average high ${facts.highs[ranked[0]!]!.toFixed(1)}°C). From warmest to coolest: ${list}.`,
    };
  }

  /** A summary for compaction: a sentence for people, and the facts as data for the model to pick up again. */
  summarize(messages: readonly WindowMessage[]): {
    role: string;
    parts: Part[];
    metadata: Record<string, unknown>;
  } {
    const facts = factsOf(messages);
    const known = Object.entries(facts.highs)
      .map(([city, high]) => `${city} ${high.toFixed(1)}°C`)
      .join(', ');
    return {
      role: 'system',
      parts: [
        {
          type: 'text',
          text: `Summary of ${messages.length} earlier messages. Task: ${facts.task} Average highs so far: ${known || 'none'}.`,
        },
        { type: 'data-facts', data: facts },
      ],
      metadata: { summary: true },
    };
  }
}
