/**
 * The workload every HTTP scenario shares: seeded message bodies of about 300
 * bytes of text, and one window configuration that fastpaca and the baselines
 * apply alike, so every target stores and returns the same data.
 */

/** mulberry32: a small seeded generator, so a run sends the same bodies in the same order every time. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const default_seed = 42;

const words = (
  'the a to of and in for on with that this it is was be are have has can will would should could ' +
  'order parcel delivery address customer account payment refund invoice tracking courier warehouse ' +
  'status email phone update change cancel request ticket support agent assistant user tool result ' +
  'search query document summary report schedule meeting calendar tomorrow yesterday today week ' +
  'please thanks sorry sure checked found looked asked offered sent received expected arrived ' +
  'shipped returned confirmed missing damaged replaced within before after until about because ' +
  'price plan subscription upgrade downgrade trial discount code number reference details note'
).split(' ');

/** About `bytes` characters of plain English-like text (the window's token counts depend on it). */
export function messageText(random: () => number, bytes: number): string {
  let text = '';
  while (text.length < bytes - 12) {
    const word = words[Math.floor(random() * words.length)]!;
    text += text.length === 0 ? word[0]!.toUpperCase() + word.slice(1) : ` ${word}`;
    if (random() < 0.08) text += random() < 0.5 ? '.' : ',';
  }
  return `${text}.`;
}

export interface MessageInput {
  role: 'user' | 'assistant';
  parts: { type: 'text'; text: string }[];
}

/** `count` distinct messages, alternating user and assistant, from `seed`. */
export function messages(seed: number, count: number, bytes = text_bytes): MessageInput[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    parts: [{ type: 'text', text: messageText(random, bytes) }],
  }));
}

/** The append request body for each message, as sent on the wire. */
export function appendBodies(seed: number, count: number): string[] {
  return messages(seed, count).map((message) => JSON.stringify({ message }));
}

export const text_bytes = 300;
/** Distinct bodies the load generator cycles through. */
export const corpus_size = 1_024;

/**
 * The LLM window of every context: the newest messages, at most
 * `window_messages_max`, whose tokens fit `window_tokens_max`. fastpaca
 * expresses it as `last_n` with a trigger at 80 % of a 5,000-token budget:
 * the messages above count about 48 tokens each, so once the window is full
 * every append crosses the trigger and the oldest are dropped until the rest
 * fit 4,000 tokens (about 84 messages). That is exactly "the newest messages
 * whose running token sum fits 4,000, at most 100", which the baselines
 * compute on each read.
 */
export const window_messages_max = 100;
export const window_tokens_max = 4_000;
export const context_config = {
  token_budget: 5_000,
  trigger_ratio: 0.8,
  policy: { strategy: 'last_n', config: { limit: window_messages_max } },
} as const;
