import { limits } from '@fastpaca/contract';
import { describe, expect, it } from 'vitest';
import { ContextGroup } from '../../src/context/index.js';
import { engineLimits } from '../../src/context/limits.js';
import { append, compact, msg, must, pendingById, put, windowSeqs } from './fixtures.js';

function groupWith(config: Parameters<typeof put>[1], id = 'ctx') {
  const group = new ContextGroup();
  must(group.apply(put(id, config)));
  return group;
}

describe('ContextGroup put_context – create and update', () => {
  it('creates a context at version 0 with defaults and no events', () => {
    const group = new ContextGroup();
    const applied = group.apply(put('ctx', { token_budget: 1000 }, 1_700_000_000_123));
    expect(applied.events).toEqual([]);
    expect(must(applied)).toEqual({
      id: 'ctx',
      token_budget: 1000,
      trigger_ratio: 0.7,
      policy: { strategy: 'last_n', config: { limit: 200 } },
      metadata: {},
      status: 'active',
      version: 0,
      last_seq: 0,
      archived_seq: 0,
      created_at: '2023-11-14T22:13:20.123Z',
      updated_at: '2023-11-14T22:13:20.123Z',
    });
    expect(group.window('ctx')).toEqual({
      version: 0,
      messages: [],
      used_tokens: 0,
      needs_compaction: false,
      segments: [],
    });
  });

  it('fills policy defaults', () => {
    const group = groupWith({ token_budget: 100, policy: { strategy: 'skip_parts' } });
    expect(group.getContext('ctx')!.policy).toEqual({
      strategy: 'skip_parts',
      config: { skip_kinds: ['reasoning', 'tool'], limit: 200 },
    });
  });

  it('is a no-op when the config is identical (no bump, no events)', () => {
    const group = groupWith({ token_budget: 100, metadata: { a: 1, b: { c: [1, 2] } } });
    const applied = group.apply(
      put('ctx', { token_budget: 100, trigger_ratio: 0.7, metadata: { b: { c: [1, 2] }, a: 1 } }, 9_999),
    );
    expect(applied.events).toEqual([]);
    expect(must(applied).version).toBe(0);
    expect(must(applied).updated_at).toBe('1970-01-01T00:00:01.000Z');
  });

  it('bumps once and emits one context event on a real change; absent fields stay', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.5, metadata: { a: 1 } });
    const applied = group.apply(put('ctx', { token_budget: 200 }, 5_000));
    expect(must(applied)).toMatchObject({
      token_budget: 200,
      trigger_ratio: 0.5,
      metadata: { a: 1 },
      version: 1,
    });
    expect(applied.events).toEqual([
      { context_id: 'ctx', frame: { type: 'context', version: 1, used_tokens: 0, needs_compaction: false } },
    ]);
    const replaced = must(group.apply(put('ctx', { token_budget: 200, metadata: { b: 2 } })));
    expect(replaced.metadata).toEqual({ b: 2 });
    expect(replaced.version).toBe(2);
  });

  it('rejects bad config as invalid_request without creating anything', () => {
    const group = new ContextGroup();
    for (const bad of [
      put('ctx', { token_budget: 0 }),
      put('ctx', { token_budget: 10, trigger_ratio: 0 }),
      put('ctx', { token_budget: 10, trigger_ratio: 1.5 }),
      put('ctx', { token_budget: 10, policy: { strategy: 'nope' } as never }),
      put('bad id', { token_budget: 10 }),
    ]) {
      const applied = group.apply(bad);
      expect(applied.result.ok).toBe(false);
      if (!applied.result.ok) expect(applied.result.error.code).toBe('invalid_request');
    }
    expect(group.size).toBe(0);
  });

  it('conflicts on a tombstoned context', () => {
    const group = groupWith({ token_budget: 100 });
    must(group.apply({ type: 'tombstone', id: 'ctx', at: 1 }));
    const applied = group.apply(put('ctx', { token_budget: 100 }));
    expect(applied.result).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });
});

describe('ContextGroup append – log, versions and errors', () => {
  it('assigns dense seqs, bumps the version once per command and emits frames in order', () => {
    const group = groupWith({ token_budget: 1000 });
    const applied = group.apply(append('ctx', [msg(5), msg(7)]));
    expect(must(applied)).toEqual({ first_seq: 1, seq: 2, version: 1, token_estimate: 12, replayed: false });
    expect(applied.events.map((e) => e.frame)).toEqual([
      { type: 'message', version: 1, seq: 1, message: expect.objectContaining({ seq: 1, token_count: 5 }) },
      { type: 'message', version: 1, seq: 2, message: expect.objectContaining({ seq: 2, token_count: 7 }) },
      { type: 'context', version: 1, used_tokens: 12, needs_compaction: false },
    ]);
    expect(must(group.apply(append('ctx', [msg(1)])))).toMatchObject({ seq: 3, version: 2 });
    expect(group.tail('ctx', 0, 10)!.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(group.tail('ctx', 0, 10)!.messages[0]!.inserted_at).toBe('1970-01-01T00:00:02.000Z');
  });

  it('answers not_found for an unknown context', () => {
    const group = new ContextGroup();
    expect(group.apply(append('nope', [msg(1)])).result).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });

  it('answers conflict with expected/found on an if_version mismatch', () => {
    const group = groupWith({ token_budget: 1000 });
    must(group.apply(append('ctx', [msg(1)])));
    const applied = group.apply(append('ctx', [msg(1)], { if_version: 0 }));
    expect(applied.result).toEqual({
      ok: false,
      error: {
        code: 'conflict',
        message: 'version mismatch: expected 0, found 1',
        details: { expected: 0, found: 1 },
      },
    });
    expect(applied.events).toEqual([]);
    expect(must(group.apply(append('ctx', [msg(1)], { if_version: 1 })))).toMatchObject({ version: 2 });
  });

  it('answers conflict once tombstoned, while history stays readable', () => {
    const group = groupWith({ token_budget: 1000 });
    must(group.apply(append('ctx', [msg(1)])));
    const tomb = group.apply({ type: 'tombstone', id: 'ctx', at: 1 });
    expect(must(tomb)).toEqual({ version: 2 });
    expect(tomb.events).toEqual([{ context_id: 'ctx', frame: { type: 'tombstoned', version: 2 } }]);
    expect(group.apply(append('ctx', [msg(1)])).result).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(group.tail('ctx', 0, 10)!.messages).toHaveLength(1);
    const again = group.apply({ type: 'tombstone', id: 'ctx', at: 2 });
    expect(must(again)).toEqual({ version: 2 });
    expect(again.events).toEqual([]);
  });

  it('rejects malformed messages as invalid_request', () => {
    const group = groupWith({ token_budget: 1000 });
    const bad = [
      append('ctx', []),
      append('ctx', [{ ...msg(1), parts: [] }]),
      append('ctx', [{ ...msg(1), token_count: -1 }]),
      append('ctx', [{ ...msg(1), part_tokens: [1, 2] }]),
    ];
    for (const cmd of bad) {
      expect(group.apply(cmd).result).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    }
    expect(group.getContext('ctx')!.version).toBe(0);
  });
});

describe('ContextGroup append – idempotency keys', () => {
  it('returns the original result with replayed: true and changes nothing', () => {
    const group = groupWith({ token_budget: 1000 });
    const first = must(group.apply(append('ctx', [msg(3)], { idempotency_key: 'k1' })));
    must(group.apply(append('ctx', [msg(4)])));
    const before = group.snapshot();
    const replay = group.apply(append('ctx', [msg(99)], { idempotency_key: 'k1' }));
    expect(must(replay)).toEqual({ ...first, replayed: true });
    expect(replay.events).toEqual([]);
    expect(group.snapshot()).toEqual(before);
  });

  it('replays even after the context was tombstoned', () => {
    const group = groupWith({ token_budget: 1000 });
    const first = must(group.apply(append('ctx', [msg(3)], { idempotency_key: 'k1' })));
    must(group.apply({ type: 'tombstone', id: 'ctx', at: 1 }));
    expect(must(group.apply(append('ctx', [msg(3)], { idempotency_key: 'k1' })))).toEqual({
      ...first,
      replayed: true,
    });
  });

  it('replays a retry that comes back after thousands of later appends within the retention time', () => {
    const group = groupWith({ token_budget: 100_000_000 });
    const at = 1_000_000;
    const first = must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'slow', at })));
    for (let i = 0; i < 5_000; i++) {
      must(group.apply(append('ctx', [msg(1)], { idempotency_key: `k${i}`, at: at + i })));
    }
    const retry = append('ctx', [msg(1)], {
      idempotency_key: 'slow',
      at: at + limits.idempotency_retention_ms,
    });
    expect(must(group.apply(retry))).toEqual({ ...first, replayed: true });
  });

  it('forgets keys older than the retention time beyond the newest 1,000', () => {
    const group = groupWith({ token_budget: 100_000_000 });
    const late = 1_000 + limits.idempotency_retention_ms + 1;
    must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'old', at: 1_000 })));
    for (let i = 0; i < 999; i++) {
      must(group.apply(append('ctx', [msg(1)], { idempotency_key: `k${i}`, at: late })));
    }
    // 1,000 keys: the newest 1,000 are kept whatever their age
    expect(must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'old', at: late }))).replayed).toBe(
      true,
    );
    must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'one-more', at: late })));
    expect(must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'old', at: late }))).replayed).toBe(
      false,
    );
  });

  it('never keeps more than the key cap, however young the keys', () => {
    const group = groupWith({ token_budget: 100_000_000 });
    const max = engineLimits.idempotency_keys_max;
    for (let i = 0; i <= max; i++) must(group.apply(append('ctx', [msg(1)], { idempotency_key: `k${i}` })));
    expect(must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'k1' }))).replayed).toBe(true);
    expect(must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'k0' }))).replayed).toBe(false);
  });

  it('does not record a key when the append failed', () => {
    const group = groupWith({ token_budget: 1000 });
    expect(group.apply(append('ctx', [msg(1)], { idempotency_key: 'k', if_version: 7 })).result.ok).toBe(
      false,
    );
    expect(must(group.apply(append('ctx', [msg(1)], { idempotency_key: 'k' }))).replayed).toBe(false);
  });
});

describe('ContextGroup last_n – the documented example by hand', () => {
  it('budget 100, ratio 0.7, 30-token messages: the 3rd append drops the oldest', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7 });
    must(group.apply(append('ctx', [msg(30)])));
    must(group.apply(append('ctx', [msg(30)])));
    const third = group.apply(append('ctx', [msg(30)]));
    expect(windowSeqs(group, 'ctx')).toEqual([2, 3]);
    expect(group.window('ctx')).toMatchObject({ used_tokens: 60, needs_compaction: false, version: 3 });
    expect(third.events.map((e) => e.frame.type)).toEqual(['message', 'compaction', 'context']);
    expect(third.events[1]!.frame).toEqual({
      type: 'compaction',
      version: 3,
      range: { from_seq: 1, to_seq: 1 },
    });
    expect(group.tail('ctx', 0, 10)!.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('keeps leading system messages pinned', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7 });
    must(group.apply(append('ctx', [msg(20, { role: 'system' })])));
    for (let i = 0; i < 3; i++) must(group.apply(append('ctx', [msg(30)])));
    // 20 + 30 + 30 + 30 = 110 > 70: drop seq 2 and 3; system stays
    expect(windowSeqs(group, 'ctx')).toEqual([1, 4]);
    expect(group.window('ctx')!.used_tokens).toBe(50);
  });

  it('keeps at most limit non-pinned messages once the policy runs', () => {
    const group = groupWith({
      token_budget: 100,
      trigger_ratio: 0.7,
      policy: { strategy: 'last_n', config: { limit: 2 } },
    });
    must(group.apply(append('ctx', [msg(1, { role: 'system' })])));
    for (let i = 0; i < 5; i++) must(group.apply(append('ctx', [msg(10)])));
    // 51 tokens, under the trigger: nothing trimmed yet even though limit is 2
    expect(windowSeqs(group, 'ctx')).toEqual([1, 2, 3, 4, 5, 6]);
    must(group.apply(append('ctx', [msg(30)])));
    expect(windowSeqs(group, 'ctx')).toEqual([1, 6, 7]);
  });

  it('never drops the newest message, even when it alone exceeds the threshold', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7 });
    must(group.apply(append('ctx', [msg(10)])));
    must(group.apply(append('ctx', [msg(500)])));
    expect(windowSeqs(group, 'ctx')).toEqual([2]);
    expect(group.window('ctx')).toMatchObject({ used_tokens: 500, needs_compaction: true });
  });

  it('drops a tool call and its result together', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7 });
    const call = msg(20, {
      role: 'assistant',
      parts: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'w' }],
    });
    const result = msg(20, {
      role: 'tool',
      parts: [{ type: 'tool-result', tool_call_id: 'c1', output: 'sunny' }],
    });
    must(group.apply(append('ctx', [msg(10)])));
    must(group.apply(append('ctx', [call, result])));
    // 50 so far; +30 = 80 > 70. Dropping seq 1 gives 70, which fits, so the pair stays.
    must(group.apply(append('ctx', [msg(30)])));
    expect(windowSeqs(group, 'ctx')).toEqual([2, 3, 4]);
    // +25: 95 > 70. Dropping seq 2 alone would leave an orphan result, so 2 and 3 go together.
    const applied = group.apply(append('ctx', [msg(25)]));
    expect(windowSeqs(group, 'ctx')).toEqual([4, 5]);
    expect(applied.events[1]!.frame).toEqual({
      type: 'compaction',
      version: 4,
      range: { from_seq: 2, to_seq: 3 },
    });
  });

  it('keeps a call and its result together even with a message between them', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7 });
    must(
      group.apply(
        append('ctx', [msg(20, { role: 'assistant', parts: [{ type: 'tool-x', toolCallId: 'a' }] })]),
      ),
    );
    must(group.apply(append('ctx', [msg(20)])));
    must(
      group.apply(
        append('ctx', [msg(20, { role: 'tool', parts: [{ type: 'text', text: 'r', tool_call_id: 'a' }] })]),
      ),
    );
    must(group.apply(append('ctx', [msg(20)])));
    // 80 > 70: the first unit is seqs 1–3; dropping it leaves 20.
    expect(windowSeqs(group, 'ctx')).toEqual([4]);
  });
});

describe('ContextGroup manual – needs_compaction flips, nothing is dropped', () => {
  it('keeps everything and reports needs_compaction', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7, policy: { strategy: 'manual' } });
    for (let i = 0; i < 3; i++) must(group.apply(append('ctx', [msg(30)])));
    const applied = group.apply(append('ctx', [msg(30)]));
    expect(windowSeqs(group, 'ctx')).toEqual([1, 2, 3, 4]);
    expect(group.window('ctx')).toMatchObject({ used_tokens: 120, needs_compaction: true });
    expect(applied.events.map((e) => e.frame.type)).toEqual(['message', 'context']);
    expect(applied.events[1]!.frame).toMatchObject({ needs_compaction: true, used_tokens: 120 });
  });
});

describe('ContextGroup skip_parts – strip parts, then last_n', () => {
  const policy = {
    strategy: 'skip_parts' as const,
    config: { skip_kinds: ['reasoning', 'tool'], limit: 200 },
  };

  it('strips reasoning and tool parts from older messages using part_tokens', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7, policy });
    const rich = msg(40, {
      role: 'assistant',
      parts: [
        { type: 'reasoning', text: 'thinking' },
        { type: 'text', text: 'answer' },
        { type: 'tool-search', toolCallId: 't1', state: 'output-available' },
      ],
      part_tokens: [25, 5, 10],
    });
    must(group.apply(append('ctx', [rich])));
    must(group.apply(append('ctx', [msg(40)])));
    const view = group.window('ctx')!;
    expect(view.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(view.messages[0]!.parts).toEqual([{ type: 'text', text: 'answer' }]);
    expect(view.messages[0]!.token_count).toBe(5);
    expect(view.used_tokens).toBe(45);
    // the log keeps the message as appended
    expect(group.tail('ctx', 0, 10)!.messages[0]!.parts).toHaveLength(3);
    expect(group.tail('ctx', 0, 10)!.messages[0]!.token_count).toBe(40);
  });

  it('scales the count by parts kept when part_tokens is absent', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7, policy });
    const parts = [
      { type: 'reasoning', text: 'a' },
      { type: 'text', text: 'b' },
      { type: 'text', text: 'c' },
    ];
    must(group.apply(append('ctx', [msg(50, { parts })])));
    must(group.apply(append('ctx', [msg(30)])));
    // floor(50 * 2 / 3) = 33, and 33 + 30 fits under 70 so nothing is dropped
    expect(group.window('ctx')!.messages.map((m) => m.token_count)).toEqual([33, 30]);
  });

  it('drops a message left without parts, then applies last_n', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7, policy });
    must(group.apply(append('ctx', [msg(30, { parts: [{ type: 'reasoning', text: 'x' }] })])));
    must(group.apply(append('ctx', [msg(30)])));
    const applied = group.apply(append('ctx', [msg(30)]));
    expect(windowSeqs(group, 'ctx')).toEqual([2, 3]);
    expect(applied.events[1]!.frame).toMatchObject({ type: 'compaction', range: { from_seq: 1, to_seq: 1 } });
  });

  it('leaves the newest message intact', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7, policy });
    must(
      group.apply(
        append('ctx', [
          msg(80, {
            parts: [
              { type: 'reasoning', text: 'x' },
              { type: 'text', text: 'y' },
            ],
          }),
        ]),
      ),
    );
    expect(group.window('ctx')!.messages[0]!.parts).toHaveLength(2);
  });
});

describe('ContextGroup window – budget_tokens trims only the response', () => {
  it('trims oldest non-pinned first and leaves the stored window alone', () => {
    const group = groupWith({ token_budget: 1000 });
    must(group.apply(append('ctx', [msg(5, { role: 'system' })])));
    for (let i = 0; i < 4; i++) must(group.apply(append('ctx', [msg(10)])));
    const trimmed = group.window('ctx', { budget_tokens: 26 })!;
    expect(trimmed.messages.map((m) => m.seq)).toEqual([1, 4, 5]);
    expect(trimmed.used_tokens).toBe(25);
    expect(trimmed.segments).toEqual([{ type: 'live', from_seq: 1, to_seq: 5 }]);
    expect(group.window('ctx')!.messages).toHaveLength(5);
    expect(group.window('ctx')!.used_tokens).toBe(45);
  });
});

describe('ContextGroup compact – replaces the window, segments show summary then live', () => {
  it('replaces the window with summary entries and records the covered range', () => {
    const group = groupWith({ token_budget: 1000, policy: { strategy: 'manual' } });
    for (let i = 0; i < 3; i++) must(group.apply(append('ctx', [msg(10)])));
    const applied = group.apply(compact('ctx', [msg(7, { role: 'system', text: 'summary' })]));
    expect(must(applied)).toEqual({ version: 4 });
    expect(applied.events.map((e) => e.frame)).toEqual([
      { type: 'compaction', version: 4, range: { from_seq: 1, to_seq: 3 } },
      { type: 'context', version: 4, used_tokens: 7, needs_compaction: false },
    ]);
    must(group.apply(append('ctx', [msg(10)])));
    must(group.apply(append('ctx', [msg(10)])));
    const view = group.window('ctx')!;
    expect(view.messages.map((m) => m.seq)).toEqual([null, 4, 5]);
    expect(view.messages[0]!.inserted_at).toBe('1970-01-01T00:00:03.000Z');
    expect(view.segments).toEqual([
      { type: 'summary', from_seq: 1, to_seq: 3 },
      { type: 'live', from_seq: 4, to_seq: 5 },
    ]);
    expect(group.tail('ctx', 0, 10)!.messages).toHaveLength(5);
    // a second compaction covers from the first summary's start
    const second = group.apply(compact('ctx', [msg(3)]));
    expect(second.events[0]!.frame).toMatchObject({ range: { from_seq: 1, to_seq: 5 } });
  });

  it('allows an empty replacement; the next one covers last_seq..last_seq', () => {
    const group = groupWith({ token_budget: 1000 });
    must(group.apply(append('ctx', [msg(10)])));
    must(group.apply(compact('ctx', [])));
    expect(group.window('ctx')).toMatchObject({ messages: [], used_tokens: 0, segments: [] });
    const applied = group.apply(compact('ctx', [msg(1)]));
    expect(applied.events[0]!.frame).toMatchObject({ range: { from_seq: 1, to_seq: 1 } });
  });

  it('checks if_version and tombstones', () => {
    const group = groupWith({ token_budget: 1000 });
    expect(group.apply(compact('ctx', [], { if_version: 3 })).result).toMatchObject({
      ok: false,
      error: { code: 'conflict', details: { expected: 3, found: 0 } },
    });
    expect(group.apply(compact('nope', [])).result).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });
});

describe('ContextGroup policy change – applies from the next trim', () => {
  it('does not rebuild the window when the policy changes', () => {
    const group = groupWith({ token_budget: 100, trigger_ratio: 0.7 });
    for (let i = 0; i < 5; i++) must(group.apply(append('ctx', [msg(10)])));
    must(
      group.apply(put('ctx', { token_budget: 100, policy: { strategy: 'last_n', config: { limit: 2 } } })),
    );
    expect(windowSeqs(group, 'ctx')).toEqual([1, 2, 3, 4, 5]);
    must(group.apply(append('ctx', [msg(10)])));
    expect(windowSeqs(group, 'ctx')).toEqual([1, 2, 3, 4, 5, 6]); // 60 ≤ 70: no trim yet
    must(group.apply(append('ctx', [msg(15)])));
    expect(windowSeqs(group, 'ctx')).toEqual([6, 7]);
  });
});

describe('ContextGroup patch_metadata – shallow merge', () => {
  it('merges, deletes null keys and bumps only on change', () => {
    const group = groupWith({ token_budget: 100, metadata: { a: 1, b: 2 } });
    const applied = group.apply({ type: 'patch_metadata', id: 'ctx', at: 5, metadata: { b: null, c: 3 } });
    expect(must(applied)).toMatchObject({ metadata: { a: 1, c: 3 }, version: 1 });
    expect(applied.events).toHaveLength(1);
    const noop = group.apply({ type: 'patch_metadata', id: 'ctx', at: 6, metadata: { a: 1, zz: null } });
    expect(must(noop).version).toBe(1);
    expect(noop.events).toEqual([]);
  });

  it('keeps a __proto__ key as data', () => {
    const group = groupWith({ token_budget: 100 });
    const metadata = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const view = must(group.apply({ type: 'patch_metadata', id: 'ctx', at: 5, metadata }));
    expect(Object.getPrototypeOf(view.metadata)).toBe(Object.prototype);
    expect(Object.keys(view.metadata)).toEqual(['__proto__']);
  });
});

describe('ContextGroup ack_archived – trims the retained tail', () => {
  it('keeps tail_keep, never drops past archived_seq, and leaves the window alone', () => {
    const group = groupWith({ token_budget: 100_000 });
    for (let i = 0; i < 10; i++) must(group.apply(append('ctx', [msg(1)])));
    const applied = group.apply({ type: 'ack_archived', id: 'ctx', upto_seq: 6, tail_keep: 2 });
    expect(must(applied)).toEqual({ archived_seq: 6, trimmed: 6 });
    expect(applied.events).toEqual([]);
    expect(group.getContext('ctx')).toMatchObject({ archived_seq: 6, version: 10 });
    expect(group.archiveState('ctx')).toEqual({ id: 'ctx', archived_seq: 6, last_seq: 10, retained: 4 });
    expect(windowSeqs(group, 'ctx')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(must(group.apply({ type: 'ack_archived', id: 'ctx', upto_seq: 99, tail_keep: 2 }))).toEqual({
      archived_seq: 10,
      trimmed: 2,
    });
    expect(must(group.apply({ type: 'ack_archived', id: 'ctx', upto_seq: 3, tail_keep: 0 }))).toEqual({
      archived_seq: 10,
      trimmed: 2,
    });
  });

  it('lists pending contexts and unarchived messages', () => {
    const group = groupWith({ token_budget: 100_000 });
    must(group.apply(put('other', { token_budget: 10 })));
    for (let i = 0; i < 5; i++) must(group.apply(append('ctx', [msg(1)])));
    expect(pendingById(group).map((p) => p.id)).toEqual(['ctx']);
    expect(group.unarchivedMessages('ctx', 2).map((m) => m.seq)).toEqual([1, 2]);
    must(group.apply({ type: 'ack_archived', id: 'ctx', upto_seq: 3, tail_keep: 100 }));
    expect(group.unarchivedMessages('ctx', 10).map((m) => m.seq)).toEqual([4, 5]);
    must(group.apply({ type: 'ack_archived', id: 'ctx', upto_seq: 5, tail_keep: 100 }));
    expect(pendingById(group)).toEqual([]);
  });
});

describe('ContextGroup tail and messagesAfter – paging over the retained tail', () => {
  function archivedGroup() {
    const group = groupWith({ token_budget: 100_000 });
    for (let i = 0; i < 10; i++) must(group.apply(append('ctx', [msg(1)])));
    must(group.apply({ type: 'ack_archived', id: 'ctx', upto_seq: 6, tail_keep: 4 }));
    return group; // retained: 7..10
  }

  it('tail pages newest-first and says which part lies in the archive', () => {
    const group = archivedGroup();
    const first = group.tail('ctx', 0, 3)!;
    expect(first.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
    expect(first.archived_range).toBeNull();
    const second = group.tail('ctx', 3, 3)!;
    expect(second.messages.map((m) => m.seq)).toEqual([7]);
    expect(second.archived_range).toEqual({ from_seq: 5, to_seq: 6 });
    const last = group.tail('ctx', 9, 3)!;
    expect(last).toMatchObject({
      messages: [],
      archived_range: { from_seq: 1, to_seq: 1 },
      first_retained_seq: 7,
    });
    expect(group.tail('ctx', 10, 3)!).toMatchObject({ messages: [], archived_range: null });
  });

  it('messagesAfter pages forward and reports next_after_seq', () => {
    const group = archivedGroup();
    expect(group.messagesAfter('ctx', 0, 3)).toMatchObject({
      messages: [],
      archived_range: { from_seq: 1, to_seq: 3 },
      next_after_seq: 3,
    });
    const mid = group.messagesAfter('ctx', 4, 4)!;
    expect(mid.archived_range).toEqual({ from_seq: 5, to_seq: 6 });
    expect(mid.messages.map((m) => m.seq)).toEqual([7, 8]);
    expect(mid.next_after_seq).toBe(8);
    const end = group.messagesAfter('ctx', 8, 100)!;
    expect(end.messages.map((m) => m.seq)).toEqual([9, 10]);
    expect(end.next_after_seq).toBeNull();
    expect(group.messagesAfter('ctx', 10, 100)).toMatchObject({ messages: [], next_after_seq: null });
  });

  it('returns undefined for unknown contexts', () => {
    const group = new ContextGroup();
    expect(group.tail('x', 0, 1)).toBeUndefined();
    expect(group.messagesAfter('x', 0, 1)).toBeUndefined();
    expect(group.window('x')).toBeUndefined();
    expect(group.getContext('x')).toBeUndefined();
  });
});
