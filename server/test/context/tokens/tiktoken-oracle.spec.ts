import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import { loadEstimator } from '../../../src/context/index.js';

/*
 * The hot path counts with gpt-tokenizer; js-tiktoken (a port of OpenAI's
 * tiktoken) is the oracle. Special-token strings are ordinary text on both
 * sides (`encode(text, [], [])` ≙ tiktoken's encode_ordinary).
 */

const runs = { seed: 42, numRuns: 300 } as const;

const samples = {
  english: [
    'The quick brown fox',
    'jumps over',
    "isn't",
    'it?',
    'Hello,',
    'world!',
    '  indented',
    'CamelCaseWord',
    "we'll",
    "they've",
  ],
  chinese: ['你好', '世界', '我们今天', '去公园散步。', '机器学习', '上下文窗口', '，', '！'],
  japanese: ['こんにちは', '世界', 'カタカナ', 'ひらがなと漢字', '東京都', '。', 'です', 'ました'],
  arabic: ['مرحبا', 'بالعالم', 'السلام عليكم', 'كيف حالك؟', 'اللغة العربية', '،'],
  hindi: ['नमस्ते', 'दुनिया', 'हिन्दी भाषा', 'क्या हाल है?', 'धन्यवाद', '।'],
  emoji: ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇸🇪', '❤️', '🔥🔥', '🧑🏿‍💻', '✨'],
  special: ['<|endoftext|>', '<|im_start|>', '<|fim_prefix|>', '<|endofprompt|>', '<|im_end|>'],
};

const code = [
  'function add(a, b) {\n  return a + b;\n}\n',
  'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n',
  "SELECT id, name FROM users WHERE created_at > now() - interval '1 day';",
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); }',
  'const x = await fetch(`/v1/contexts/$' + '{id}/tail?offset=0&limit=100`);',
  '\t\tif (x !== null && y >= 0) { z ||= []; }\r\n',
  '    \n\n\n    ',
  '0123456789 3.14159 1e-9 0xFF',
];

function phraseArb(words: readonly string[], separators: readonly string[]) {
  return fc
    .array(fc.tuple(fc.constantFrom(...words), fc.constantFrom(...separators)), {
      minLength: 1,
      maxLength: 12,
    })
    .map((pairs) => pairs.map(([w, s]) => w + s).join(''));
}

const mixedArb = fc
  .array(
    fc.oneof(
      ...Object.values(samples).map((words) => phraseArb(words, [' ', '', '\n', '  '])),
      fc.constantFrom(...code),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((chunks) => chunks.join(''));

const inputClasses: [string, fc.Arbitrary<string>][] = [
  ['any code points (unit: binary)', fc.string({ unit: 'binary', maxLength: 80 })],
  ['graphemes', fc.string({ unit: 'grapheme', maxLength: 40 })],
  // `unit: 'binary'` never produces half a surrogate pair, but JSON bodies can carry one.
  [
    'lone surrogates (malformed UTF-16)',
    fc
      .array(
        fc.oneof(
          fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
          fc.string({ unit: 'grapheme', maxLength: 3 }),
        ),
        { maxLength: 10 },
      )
      .map((chunks) => chunks.join('')),
  ],
  ['ascii', fc.string({ unit: 'binary-ascii', maxLength: 120 })],
  [
    'code snippets',
    fc.array(fc.constantFrom(...code), { minLength: 1, maxLength: 3 }).map((c) => c.join('')),
  ],
  ['JSON documents', fc.json({ maxDepth: 3 })],
  ...Object.entries(samples).map(([name, words]): [string, fc.Arbitrary<string>] => [
    name,
    phraseArb(words, [' ', '', '\n']),
  ]),
  ['mixed languages, emoji and code', mixedArb],
];

const encodings = [
  { name: 'o200k_base', oracle: new Tiktoken(o200k) },
  { name: 'cl100k_base', oracle: new Tiktoken(cl100k) },
] as const;

describe('gpt-tokenizer – counts exactly like tiktoken', () => {
  for (const { name, oracle } of encodings) {
    for (const [inputClass, arb] of inputClasses) {
      it(`${name} – ${inputClass}`, async () => {
        const estimator = await loadEstimator(`tiktoken:${name}`);
        fc.assert(
          fc.property(arb, (text) => {
            expect(estimator.countText(text)).toBe(oracle.encode(text, [], []).length);
          }),
          runs,
        );
      });
    }
  }
});
