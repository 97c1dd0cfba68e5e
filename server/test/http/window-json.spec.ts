import type { Window } from '@fastpaca/contract';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { windowJson } from '../../src/http/window-json.js';

const message = fc.record({
  seq: fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: null }),
  role: fc.constantFrom('user', 'assistant', 'system', 'tool'),
  parts: fc.array(
    fc.oneof(
      fc.record({ type: fc.constant('text'), text: fc.string({ unit: 'grapheme' }) }),
      fc.record({ type: fc.string({ minLength: 1 }), data: fc.jsonValue({ maxDepth: 3 }) }),
    ),
    { minLength: 1, maxLength: 4 },
  ),
  metadata: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
  token_count: fc.nat(),
  inserted_at: fc.constant('2026-01-01T00:00:00.000Z'),
});

describe('window JSON – cached serialization', () => {
  it('is byte-identical to JSON.stringify, on first and repeated reads', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (messages, version, used, needs) => {
          const window = {
            version,
            messages,
            used_tokens: used,
            needs_compaction: needs,
            segments: [{ type: 'live', from_seq: 1, to_seq: 2 }],
          } as Window;
          expect(windowJson(window)).toBe(JSON.stringify(window));
          expect(windowJson(window)).toBe(JSON.stringify(window));
          expect(JSON.parse(windowJson(window))).toEqual(JSON.parse(JSON.stringify(window)));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
