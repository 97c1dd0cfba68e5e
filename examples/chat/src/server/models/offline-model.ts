import type { WindowMessage } from '@fastpaca/sdk';
import { type ChatModel, sleep, textOf } from './chat-model.js';

const tips = [
  'Reload the page: the conversation comes back from the store, not from this tab.',
  'Open this chat in a second tab and watch new messages arrive there live.',
  'Press Stop while I am talking: what you already saw is stored, marked partial.',
  'Watch the meter above: when it passes the trigger line, press Compact now.',
  'The log keeps every message; only the window sent to the model is compacted.',
];

const story = [
  'Once upon a time, a small assistant kept every word of every conversation in a careful, append-only log.',
  'Each morning it counted the tokens in its window and compared them with its budget, the way a baker weighs flour.',
  'When the window grew heavy, it did not forget anything: it wrote a short summary, set it where the old messages had been,',
  'and kept the full history on its shelf for anyone who wanted to scroll back.',
  'Travellers who reloaded the page found their conversation exactly where they had left it,',
  'and those who opened a second window saw new words arrive at the same moment as the first.',
  'Sometimes a traveller would interrupt the assistant halfway through a sentence;',
  'even then, the half-told story was written down and marked as partial, because nothing a reader has seen should be lost.',
  'And so the assistant grew old and wise, never once exceeding its budget, and never once dropping a message.',
];

/** A stable index from a string, so the same question always gets the same tip. */
function hash(text: string): number {
  let h = 5381;
  for (let i = 0; i < text.length; i++) h = ((h * 33) ^ text.charCodeAt(i)) >>> 0;
  return h;
}

function quote(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The reply the offline model gives to a window: a function of the window alone. */
export function offlineReply(messages: readonly WindowMessage[]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const said = lastUser ? textOf(lastUser) : '';
  if (/\b(long|story|essay)\b/i.test(said)) return story.join(' ');
  const users = messages.filter((m) => m.role === 'user').length;
  const summaries = messages.filter((m) => m.seq === null).length;
  const parts = [
    `You said “${quote(said, 120)}”.`,
    `I am the offline demo model: the window I was given holds ${messages.length} message${messages.length === 1 ? '' : 's'}, ${users} of them yours${summaries > 0 ? `, plus a summary of what came before` : ''}.`,
    tips[hash(said) % tips.length]!,
  ];
  if (users === 1) parts.push('Set OPENAI_BASE_URL and OPENAI_API_KEY to talk to a real model instead.');
  return parts.join(' ');
}

/** The summary the offline model writes for compaction: what the user said, quoted, and how often the assistant answered. */
export function offlineSummary(messages: readonly WindowMessage[]): string {
  const said = messages.filter((m) => m.role === 'user').map((m) => `“${quote(textOf(m), 60)}”`);
  const answers = messages.filter((m) => m.role === 'assistant').length;
  const earlier = messages.filter((m) => m.seq === null).length;
  const shown = said.slice(-6);
  return [
    `Summary of ${messages.length} earlier message${messages.length === 1 ? '' : 's'}.`,
    earlier > 0 ? 'It builds on an earlier summary.' : '',
    shown.length > 0
      ? `The user said ${shown.join(', ')}${said.length > shown.length ? ' and more' : ''}.`
      : '',
    `The assistant answered ${answers} time${answers === 1 ? '' : 's'}.`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** Splits text into word-sized deltas that keep their spacing, so joining them gives the text back. */
export function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

/**
 * A deterministic stand-in for a model, so the demo runs anywhere: the same
 * window always gets the same reply, streamed one word at a time.
 */
export class OfflineModel implements ChatModel {
  readonly name = 'offline demo model';

  constructor(private readonly delayMs: number) {}

  async *reply(messages: readonly WindowMessage[], signal: AbortSignal): AsyncGenerator<string> {
    for (const word of words(offlineReply(messages))) {
      await sleep(this.delayMs, signal);
      yield word;
    }
  }

  async summarize(messages: readonly WindowMessage[]): Promise<string> {
    return offlineSummary(messages);
  }
}
