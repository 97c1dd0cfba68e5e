import { type StreamEventFrame, StreamServerFrameSchema, streamCloseCodes } from '@fastpaca/contract';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ContextStatus, StreamHub, type StreamSink } from '../../src/stream/stream-hub.js';

class MemorySink implements StreamSink {
  frames: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | undefined;
  buffered = 0;
  send(json: string) {
    if (this.closed) throw new Error('send after close');
    const frame = JSON.parse(json) as Record<string, unknown>;
    StreamServerFrameSchema.parse(frame);
    this.frames.push(frame);
  }
  bufferedBytes() {
    return this.buffered;
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
  versions() {
    return this.frames.filter((f) => f.type === 'context').map((f) => f.version);
  }
}

function makeHub(overrides: Partial<ConstructorParameters<typeof StreamHub>[0]> = {}) {
  const statuses = new Map<string, ContextStatus>();
  let now = 0;
  const hub = new StreamHub({
    replay_versions_per_context_max: 100,
    replay_frames_total_max: 10_000,
    replay_bytes_total_max: 1e9,
    send_buffer_bytes_max: 1_000,
    ping_interval_ms: 30_000,
    pong_timeout_ms: 90_000,
    now: () => now,
    statusOf: (id) => statuses.get(id),
    ...overrides,
  });
  const publishVersion = (id: string, version: number, withMessage = true, text = `m${version}`) => {
    const events: StreamEventFrame[] = [];
    if (withMessage) {
      events.push({
        type: 'message',
        version,
        seq: version,
        message: {
          seq: version,
          role: 'user',
          parts: [{ type: 'text', text }],
          metadata: {},
          token_count: 1,
          inserted_at: '2026-01-01T00:00:00.000Z',
        },
      });
    }
    events.push({ type: 'context', version, used_tokens: version, needs_compaction: false });
    statuses.set(id, { version, tombstoned: false });
    hub.publish(id, events);
  };
  return {
    hub,
    statuses,
    publishVersion,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('stream hub – replay then live', () => {
  it('replays every held version after the cursor, then delivers live ones, without gap or duplicate', () => {
    const { hub, statuses, publishVersion } = makeHub();
    statuses.set('c', { version: 0, tombstoned: false });
    for (let v = 1; v <= 5; v++) publishVersion('c', v);
    const sink = new MemorySink();
    expect(hub.subscribe('c', { cursor: 2, includeMessages: true }, sink).ok).toBe(true);
    for (let v = 6; v <= 8; v++) publishVersion('c', v);
    expect(sink.versions()).toEqual([3, 4, 5, 6, 7, 8]);
    expect(sink.frames.filter((f) => f.type === 'message').map((f) => f.seq)).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('without include_messages sends no message frames', () => {
    const { hub, statuses, publishVersion } = makeHub();
    statuses.set('c', { version: 0, tombstoned: false });
    const sink = new MemorySink();
    hub.subscribe('c', { cursor: undefined, includeMessages: false }, sink);
    publishVersion('c', 1);
    expect(sink.frames.map((f) => f.type)).toEqual(['context']);
  });

  it('a cursor older than the buffer gets gap {expected, actual} and a gap close', () => {
    const { hub, statuses, publishVersion } = makeHub({ replay_versions_per_context_max: 3 });
    statuses.set('c', { version: 0, tombstoned: false });
    for (let v = 1; v <= 10; v++) publishVersion('c', v);
    const sink = new MemorySink();
    expect(hub.subscribe('c', { cursor: 2, includeMessages: true }, sink)).toEqual({
      ok: false,
      reason: 'gap',
    });
    expect(sink.frames).toEqual([{ type: 'gap', version: 10, expected: 3, actual: 8 }]);
    expect(sink.closed?.code).toBe(streamCloseCodes.gap);
  });

  it('a cursor ahead of the server gets reset and then live events', () => {
    const { hub, statuses, publishVersion } = makeHub();
    statuses.set('c', { version: 0, tombstoned: false });
    publishVersion('c', 1);
    const sink = new MemorySink();
    hub.subscribe('c', { cursor: 50, includeMessages: true }, sink);
    publishVersion('c', 2);
    expect(sink.frames.map((f) => `${f.type}:${f.version}`)).toEqual(['reset:1', 'message:2', 'context:2']);
  });

  it('after a restart (empty buffer) an older cursor gets a gap pointing past the current version', () => {
    const { hub, statuses } = makeHub();
    statuses.set('c', { version: 7, tombstoned: false });
    const sink = new MemorySink();
    hub.subscribe('c', { cursor: 3, includeMessages: true }, sink);
    expect(sink.frames).toEqual([{ type: 'gap', version: 7, expected: 4, actual: 8 }]);
  });

  it('unknown contexts are refused', () => {
    const { hub } = makeHub();
    expect(hub.subscribe('nope', { cursor: undefined, includeMessages: true }, new MemorySink())).toEqual({
      ok: false,
      reason: 'not_found',
    });
  });

  it('tombstone sends tombstoned and closes normally; later subscribers get it at once', () => {
    const { hub, statuses, publishVersion } = makeHub();
    statuses.set('c', { version: 0, tombstoned: false });
    publishVersion('c', 1);
    const live = new MemorySink();
    hub.subscribe('c', { cursor: undefined, includeMessages: true }, live);
    statuses.set('c', { version: 2, tombstoned: true });
    hub.publish('c', [{ type: 'tombstoned', version: 2 }]);
    expect(live.frames.at(-1)).toEqual({ type: 'tombstoned', version: 2 });
    expect(live.closed?.code).toBe(streamCloseCodes.normal);
    expect(hub.connectionCount()).toBe(0);
    const late = new MemorySink();
    expect(hub.subscribe('c', { cursor: 1, includeMessages: true }, late).ok).toBe(true);
    expect(late.frames).toEqual([{ type: 'tombstoned', version: 2 }]);
    expect(late.closed?.code).toBe(streamCloseCodes.normal);
    const fresh = new MemorySink();
    expect(hub.subscribe('c', { cursor: undefined, includeMessages: true }, fresh)).toEqual({
      ok: false,
      reason: 'tombstoned',
    });
    expect(fresh.frames).toEqual([{ type: 'tombstoned', version: 2 }]);
  });

  it('closes a slow consumer whose send buffer passes the bound', () => {
    const closed: string[] = [];
    const { hub, statuses, publishVersion } = makeHub({ onClosed: (r) => closed.push(r) });
    statuses.set('c', { version: 0, tombstoned: false });
    const slow = new MemorySink();
    const fast = new MemorySink();
    hub.subscribe('c', { cursor: undefined, includeMessages: true }, slow);
    hub.subscribe('c', { cursor: undefined, includeMessages: true }, fast);
    publishVersion('c', 1);
    slow.buffered = 5_000;
    publishVersion('c', 2);
    publishVersion('c', 3);
    expect(slow.closed?.code).toBe(streamCloseCodes.slow_consumer);
    expect(slow.versions()).toEqual([1, 2]);
    expect(fast.versions()).toEqual([1, 2, 3]);
    expect(closed).toEqual(['slow_consumer']);
  });

  it('pings on heartbeat and closes after the pong timeout', () => {
    const { hub, statuses, advance } = makeHub();
    statuses.set('c', { version: 4, tombstoned: false });
    const quiet = new MemorySink();
    const chatty = new MemorySink();
    hub.subscribe('c', { cursor: undefined, includeMessages: true }, quiet);
    const sub = hub.subscribe('c', { cursor: undefined, includeMessages: true }, chatty);
    for (let i = 0; i < 3; i++) {
      advance(30_000);
      if (sub.ok) hub.pong(sub.subscription);
      hub.heartbeat();
    }
    expect(quiet.frames).toEqual([
      { type: 'ping', version: 4 },
      { type: 'ping', version: 4 },
      { type: 'ping', version: 4 },
    ]);
    advance(30_001);
    hub.heartbeat();
    expect(quiet.closed?.code).toBe(streamCloseCodes.heartbeat_timeout);
    expect(chatty.closed).toBeUndefined();
  });

  it('reset (state replaced by a snapshot) tells live subscribers to refetch and forgets the replay buffer', () => {
    const { hub, statuses, publishVersion } = makeHub();
    statuses.set('c', { version: 0, tombstoned: false });
    const sink = new MemorySink();
    hub.subscribe('c', { cursor: 0, includeMessages: true }, sink);
    publishVersion('c', 1);
    // A snapshot jumps the context from version 1 to 7 without events.
    statuses.set('c', { version: 7, tombstoned: false });
    hub.reset('c');
    publishVersion('c', 8);
    expect(sink.frames.map((f) => `${f.type}:${f.version}`)).toEqual([
      'message:1',
      'context:1',
      'reset:7',
      'message:8',
      'context:8',
    ]);
    const late = new MemorySink();
    hub.subscribe('c', { cursor: 1, includeMessages: true }, late);
    expect(late.frames).toEqual([{ type: 'gap', version: 8, expected: 2, actual: 8 }]);
  });

  it('a replay larger than the send buffer stops at the bound; reconnecting from the last version continues', () => {
    const { hub, statuses, publishVersion } = makeHub({ send_buffer_bytes_max: 1_000 });
    statuses.set('c', { version: 0, tombstoned: false });
    for (let v = 1; v <= 40; v++) publishVersion('c', v);
    const seen: unknown[] = [];
    let cursor = 0;
    for (let attempt = 0; attempt < 40 && cursor < 40; attempt++) {
      const sink = new MemorySink();
      hub.subscribe('c', { cursor, includeMessages: true }, sink);
      const versions = sink.versions() as number[];
      if (cursor < 40 - versions.length) expect(sink.closed?.code).toBe(streamCloseCodes.slow_consumer);
      seen.push(...versions);
      cursor = versions.at(-1) ?? cursor;
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('closes a stream opened with a scoped token when the token expires', () => {
    const { hub, statuses, advance } = makeHub();
    statuses.set('c', { version: 0, tombstoned: false });
    const tokenSink = new MemorySink();
    const keySink = new MemorySink();
    const token = hub.subscribe(
      'c',
      { cursor: undefined, includeMessages: true, expiresAt: 45_000 },
      tokenSink,
    );
    const key = hub.subscribe('c', { cursor: undefined, includeMessages: true }, keySink);
    advance(30_000);
    if (token.ok) hub.pong(token.subscription);
    if (key.ok) hub.pong(key.subscription);
    hub.heartbeat();
    expect(tokenSink.closed).toBeUndefined();
    advance(30_000);
    if (key.ok) hub.pong(key.subscription);
    hub.heartbeat();
    expect(tokenSink.closed?.code).toBe(streamCloseCodes.unauthorized);
    expect(keySink.closed).toBeUndefined();
  });

  it('replay memory stays bounded in total across many contexts', () => {
    const { hub, statuses, publishVersion } = makeHub({
      replay_frames_total_max: 500,
      send_buffer_bytes_max: 1e6,
    });
    for (let c = 0; c < 50; c++) {
      statuses.set(`c${c}`, { version: 0, tombstoned: false });
      for (let v = 1; v <= 20; v++) publishVersion(`c${c}`, v);
    }
    expect(hub.replayFrameCount()).toBeLessThanOrEqual(500);
    const sink = new MemorySink();
    hub.subscribe('c49', { cursor: 15, includeMessages: true }, sink);
    expect(sink.versions()).toEqual([16, 17, 18, 19, 20]);
  });

  it('replay memory stays bounded in estimated bytes, whatever the frame count allows', () => {
    const { hub, statuses, publishVersion } = makeHub({
      replay_bytes_total_max: 1_000_000,
      send_buffer_bytes_max: 1e7,
    });
    const text = 'x'.repeat(20_000);
    for (let c = 0; c < 10; c++) {
      statuses.set(`c${c}`, { version: 0, tombstoned: false });
      for (let v = 1; v <= 10; v++) publishVersion(`c${c}`, v, true, text);
    }
    // 100 versions of ~40 KB each would need ~4 MB; the frame bound (10,000) never applies.
    expect(hub.replayFrameCount()).toBeLessThan(100);
    expect(hub.replayBytes()).toBeLessThanOrEqual(1_000_000);
    expect(hub.replayBytes()).toBeGreaterThan(800_000);
    // The most recently active context keeps its recent versions; the oldest ones are gone.
    const recent = new MemorySink();
    hub.subscribe('c9', { cursor: 5, includeMessages: true }, recent);
    expect(recent.versions()).toEqual([6, 7, 8, 9, 10]);
    const old = new MemorySink();
    hub.subscribe('c0', { cursor: 0, includeMessages: true }, old);
    expect(old.frames[0]).toMatchObject({ type: 'gap', expected: 1 });
  });

  it('counts tool parts and metadata toward the byte bound, not only text', () => {
    const { hub, statuses } = makeHub({ replay_bytes_total_max: 100_000 });
    statuses.set('t', { version: 0, tombstoned: false });
    for (let version = 1; version <= 10; version++) {
      statuses.set('t', { version, tombstoned: false });
      hub.publish('t', [
        {
          type: 'message',
          version,
          seq: version,
          message: {
            seq: version,
            role: 'tool',
            parts: [{ type: 'tool-result', toolCallId: 'c1', output: 'y'.repeat(10_000) }],
            metadata: { trace: 'z'.repeat(10_000) },
            token_count: 1,
            inserted_at: '2026-01-01T00:00:00.000Z',
          },
        },
        { type: 'context', version, used_tokens: version, needs_compaction: false },
      ]);
    }
    expect(hub.replayBytes()).toBeLessThanOrEqual(100_000);
    expect(hub.replayFrameCount()).toBeLessThan(20);
  });

  it('any interleaving of publishes and (re)subscriptions yields each version exactly once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('publish' as const), fc.constant('reconnect' as const)), {
          maxLength: 200,
        }),
        (ops) => {
          const { hub, statuses, publishVersion } = makeHub({ replay_versions_per_context_max: 1000 });
          statuses.set('c', { version: 0, tombstoned: false });
          const seen: unknown[] = [];
          let sink = new MemorySink();
          let last = 0;
          let sub = hub.subscribe('c', { cursor: 0, includeMessages: true }, sink);
          let version = 0;
          for (const op of ops) {
            if (op === 'publish') publishVersion('c', ++version);
            else {
              seen.push(...sink.versions());
              last = (sink.versions().at(-1) as number | undefined) ?? last;
              // What the websocket 'close' handler does when the client goes away.
              if (sub.ok) hub.unsubscribe(sub.subscription);
              sink = new MemorySink();
              sub = hub.subscribe('c', { cursor: last, includeMessages: true }, sink);
            }
          }
          seen.push(...sink.versions());
          expect(seen).toEqual(Array.from({ length: version }, (_, i) => i + 1));
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
