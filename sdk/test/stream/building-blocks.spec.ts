import type { Context, Message, MessagesPage } from '@fastpaca/contract';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { EventQueue } from '../../src/stream/event-queue.js';
import { parseFrame } from '../../src/stream/frames.js';
import { fillGap } from '../../src/stream/gap-fill.js';
import { PingPong } from '../../src/stream/ping-pong.js';
import { Reconnector } from '../../src/stream/reconnect.js';
import { streamUrl } from '../../src/stream/stream-url.js';
import { VersionGroups } from '../../src/stream/version-groups.js';

const at = '2025-01-01T00:00:00.000Z';
const message = (seq: number): Message => ({
  seq,
  role: 'user',
  parts: [{ type: 'text', text: `m${seq}` }],
  metadata: {},
  token_count: 1,
  inserted_at: at,
});

describe('VersionGroups – whole versions only', () => {
  it('hands out a group when its context or tombstoned frame arrives', () => {
    const groups = new VersionGroups();
    expect(groups.push({ type: 'message', version: 1, seq: 1, message: message(1) })).toBeUndefined();
    expect(
      groups.push({ type: 'compaction', version: 1, range: { from_seq: 0, to_seq: 0 } }),
    ).toBeUndefined();
    const group = groups.push({ type: 'context', version: 1, used_tokens: 1, needs_compaction: false });
    expect(group?.map((f) => f.type)).toEqual(['message', 'compaction', 'context']);
    expect(groups.push({ type: 'tombstoned', version: 2 })?.map((f) => f.type)).toEqual(['tombstoned']);
  });

  it('a version that ends without its context frame is a protocol error; clear drops partial groups', () => {
    const groups = new VersionGroups();
    groups.push({ type: 'message', version: 1, seq: 1, message: message(1) });
    expect(() => groups.push({ type: 'message', version: 2, seq: 2, message: message(2) })).toThrow(
      /version 1/,
    );
    groups.push({ type: 'message', version: 3, seq: 3, message: message(3) });
    groups.clear();
    expect(groups.size).toBe(0);
  });
});

describe('EventQueue – bounded buffer for one consumer', () => {
  it('delivers in order, reports full and drained, then ends after the buffered items', async () => {
    const drained = vi.fn();
    const queue = new EventQueue<number>(4, drained);
    queue.push([1, 2, 3, 4]);
    expect(queue.full).toBe(true);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    expect(drained).not.toHaveBeenCalled();
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(drained).toHaveBeenCalledTimes(1);
    queue.end();
    expect([await queue.next(), await queue.next(), await queue.next()]).toEqual([
      { value: 3, done: false },
      { value: 4, done: false },
      { value: undefined, done: true },
    ]);
    expect(() => queue.push([5])).toThrow(/after the subscription ended/);
  });

  it('a waiting consumer gets the next push; fail rejects after the buffer; clear ends at once', async () => {
    const queue = new EventQueue<string>(2, () => {});
    const waiting = queue.next();
    queue.push(['a']);
    expect(await waiting).toEqual({ value: 'a', done: false });
    queue.push(['b']);
    queue.fail(new Error('boom'));
    expect(await queue.next()).toEqual({ value: 'b', done: false });
    await expect(queue.next()).rejects.toThrow('boom');

    const cleared = new EventQueue<string>(2, () => {});
    cleared.push(['x']);
    const pending = new EventQueue<string>(2, () => {});
    const blocked = pending.next();
    pending.clear();
    cleared.clear();
    expect(await cleared.next()).toEqual({ value: undefined, done: true });
    expect(await blocked).toEqual({ value: undefined, done: true });
  });

  it('keeps order and loses nothing under any interleaving of pushes and pulls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 60 }), async (batches) => {
        const queue = new EventQueue<number>(8, () => {});
        let next = 0;
        const out: number[] = [];
        for (const size of batches) {
          queue.push(Array.from({ length: size }, () => next++));
          while (queue.size > 3) out.push((await queue.next()).value!);
        }
        queue.end();
        for (;;) {
          const result = await queue.next();
          if (result.done) break;
          out.push(result.value);
        }
        return out.length === next && out.every((v, i) => v === i);
      }),
      { seed: 42, numRuns: 300, verbose: true },
    );
  });
});

describe('parseFrame – contract schemas', () => {
  it('parses known frames, skips unknown types, rejects broken known frames', () => {
    expect(parseFrame('{"type":"ping","version":3}')).toEqual({
      kind: 'frame',
      frame: { type: 'ping', version: 3 },
    });
    expect(parseFrame('{"type":"future_feature","version":1}')).toEqual({ kind: 'unknown' });
    expect(parseFrame('not json').kind).toBe('invalid');
    expect(parseFrame('{"version":1}').kind).toBe('invalid');
    const broken = parseFrame('{"type":"message","version":1,"seq":"one"}');
    expect(broken.kind === 'invalid' && broken.problem).toMatch(/^message frame: /);
  });
});

describe('streamUrl – from the REST base URL', () => {
  it('switches the scheme and carries cursor and include_messages', () => {
    expect(streamUrl('http://h:4000/', 'a:b', { cursor: 7, includeMessages: true })).toBe(
      'ws://h:4000/v1/contexts/a%3Ab/stream?cursor=7&include_messages=true',
    );
    expect(streamUrl('https://h', 'c', { cursor: undefined, includeMessages: false })).toBe(
      'wss://h/v1/contexts/c/stream?include_messages=false',
    );
  });
});

describe('Reconnector – bounded attempts', () => {
  it('schedules with growing delays, stops at maxAttempts, and resets on success', () => {
    vi.useFakeTimers();
    try {
      const reconnector = new Reconnector({ baseDelayMs: 100, maxDelayMs: 300, maxAttempts: 3 }, () => 0.999);
      const fn = vi.fn();
      const fireTimes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect(reconnector.schedule(fn)).toBe(true);
        vi.runOnlyPendingTimers();
        fireTimes.push(Date.now() - started);
      }
      expect(fireTimes).toEqual([100, 200, 300]);
      expect(fn).toHaveBeenCalledTimes(3);
      expect(reconnector.schedule(fn)).toBe(false);
      reconnector.succeeded();
      expect(reconnector.schedule(fn)).toBe(true);
      reconnector.cancel();
      vi.advanceTimersByTime(10_000);
      expect(fn).toHaveBeenCalledTimes(3);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('PingPong – answers pings, notices silence', () => {
  it('pongs every ping, re-arms on every frame, fires once after silence, and stop clears the timer', () => {
    vi.useFakeTimers();
    try {
      const sent: string[] = [];
      const silence = vi.fn();
      const pingPong = new PingPong((t) => sent.push(t), 100, silence);
      pingPong.start();
      vi.advanceTimersByTime(90);
      pingPong.received('ping');
      vi.advanceTimersByTime(90);
      pingPong.received('message');
      vi.advanceTimersByTime(90);
      expect(silence).not.toHaveBeenCalled();
      expect(sent).toEqual(['{"type":"pong"}']);
      vi.advanceTimersByTime(10);
      expect(silence).toHaveBeenCalledTimes(1);
      pingPong.received('ping');
      pingPong.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('fillGap – consistent catch-up through REST', () => {
  const context = (version: number, last_seq: number): Context => ({
    id: 'c',
    token_budget: 100,
    trigger_ratio: 0.7,
    policy: { strategy: 'manual', config: {} },
    metadata: {},
    status: 'active',
    version,
    last_seq,
    archived_seq: 0,
    created_at: at,
    updated_at: at,
  });
  const source = (ctx: Context, log: Message[]) => ({
    getContext: async () => ctx,
    listMessages: async (afterSeq: number, limit: number): Promise<MessagesPage> => {
      const messages = log.filter((m) => m.seq > afterSeq).slice(0, Math.min(limit, 2));
      const last = messages.at(-1)?.seq;
      return { messages, next_after_seq: last !== undefined && last < log.length ? last : null };
    },
  });
  const signal = new AbortController().signal;
  const log = Array.from({ length: 9 }, (_, i) => message(i + 1));

  it('returns exactly the messages after lastSeq up to the context last_seq, even if more were appended', async () => {
    const fill = await fillGap(source(context(12, 7), log), {
      lastSeq: 3,
      includeMessages: true,
      messagesMax: 100,
      signal,
    });
    expect(fill.kind).toBe('filled');
    expect(fill.kind === 'filled' && fill.messages.map((m) => m.seq)).toEqual([4, 5, 6, 7]);
  });

  it('reports unknown when it cannot tell what was missed', async () => {
    const opts = { includeMessages: true, messagesMax: 100, signal };
    expect((await fillGap(source(context(9, 9), log), { ...opts, lastSeq: undefined })).kind).toBe('unknown');
    expect((await fillGap(source(context(9, 9), log), { ...opts, lastSeq: 1, messagesMax: 3 })).kind).toBe(
      'unknown',
    );
    const holes = [message(1), message(2), message(5)];
    expect((await fillGap(source(context(5, 5), holes), { ...opts, lastSeq: 2 })).kind).toBe('unknown');
  });

  it('without messages it only reads the context', async () => {
    const fill = await fillGap(source(context(4, 4), log), {
      lastSeq: undefined,
      includeMessages: false,
      messagesMax: 0,
      signal,
    });
    expect(fill).toMatchObject({ kind: 'filled', messages: [], context: { version: 4 } });
  });
});
