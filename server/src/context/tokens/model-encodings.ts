import type { TiktokenEncoding } from './estimator-spec.js';

/*
 * Model name → encoding, following tiktoken's own table (exact names first,
 * then prefixes for dated and fine-tuned variants). gpt-oss models use
 * o200k_harmony, which only adds special tokens to o200k_base; user text is
 * counted as ordinary text, so o200k_base counts it identically.
 */

const exact: Readonly<Record<TiktokenEncoding, readonly string[]>> = {
  o200k_base: [
    'gpt-5',
    'gpt-5-mini',
    'gpt-5-nano',
    'gpt-4.5-preview',
    'gpt-4.1',
    'gpt-4.1-mini',
    'gpt-4.1-nano',
    'gpt-4o',
    'gpt-4o-mini',
    'chatgpt-4o-latest',
    'o1',
    'o1-mini',
    'o1-preview',
    'o1-pro',
    'o3',
    'o3-mini',
    'o3-pro',
    'o4-mini',
    'gpt-oss-20b',
    'gpt-oss-120b',
  ],
  cl100k_base: [
    'gpt-4',
    'gpt-4-turbo',
    'gpt-4-32k',
    'gpt-3.5-turbo',
    'gpt-3.5',
    'gpt-35-turbo',
    'davinci-002',
    'babbage-002',
    'text-embedding-ada-002',
    'text-embedding-3-small',
    'text-embedding-3-large',
  ],
  p50k_base: [
    'text-davinci-003',
    'text-davinci-002',
    'code-davinci-002',
    'code-davinci-001',
    'code-cushman-002',
    'code-cushman-001',
    'davinci-codex',
    'cushman-codex',
  ],
  p50k_edit: ['text-davinci-edit-001', 'code-davinci-edit-001'],
  r50k_base: [
    'text-davinci-001',
    'text-curie-001',
    'text-babbage-001',
    'text-ada-001',
    'davinci',
    'curie',
    'babbage',
    'ada',
    'gpt2',
    'gpt-2',
  ],
};

/** Checked in order, so a longer prefix must come before a shorter one it extends. */
const prefixes: readonly (readonly [string, TiktokenEncoding])[] = [
  ['ft:gpt-4o', 'o200k_base'],
  ['ft:gpt-4', 'cl100k_base'],
  ['ft:gpt-3.5-turbo', 'cl100k_base'],
  ['ft:davinci-002', 'cl100k_base'],
  ['ft:babbage-002', 'cl100k_base'],
  ['o1-', 'o200k_base'],
  ['o3-', 'o200k_base'],
  ['o4-mini-', 'o200k_base'],
  ['gpt-5-', 'o200k_base'],
  ['gpt-5.', 'o200k_base'],
  ['gpt-4.5-', 'o200k_base'],
  ['gpt-4.1-', 'o200k_base'],
  ['chatgpt-4o-', 'o200k_base'],
  ['gpt-4o-', 'o200k_base'],
  ['gpt-oss-', 'o200k_base'],
  ['gpt-4-', 'cl100k_base'],
  ['gpt-3.5-turbo-', 'cl100k_base'],
  ['gpt-35-turbo-', 'cl100k_base'],
  ['text-similarity-', 'r50k_base'],
  ['text-search-', 'r50k_base'],
  ['code-search-', 'r50k_base'],
];

const byName = new Map<string, TiktokenEncoding>(
  Object.entries(exact).flatMap(([encoding, models]) =>
    models.map((model) => [model, encoding as TiktokenEncoding] as const),
  ),
);

export function encodingForModel(model: string): TiktokenEncoding | undefined {
  const known = byName.get(model);
  if (known !== undefined) return known;
  for (const [prefix, encoding] of prefixes) if (model.startsWith(prefix)) return encoding;
  return undefined;
}
