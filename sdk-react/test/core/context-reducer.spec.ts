// @vitest-environment node
import type { Context, Message, Window } from '@fastpaca/sdk';
import { describe, expect, it } from 'vitest';
import { type ContextAction, contextReducer, defaultContextLimits } from '../../src/core/context-reducer.js';
import { type ContextState, initialContextState, type LocalMessage } from '../../src/core/context-state.js';
import { MessageViewBuilder } from '../../src/core/message-view.js';

const message = (seq: number, metadata: Record<string, unknown> = {}): Message => ({
  seq,
  role: 'user',
  parts: [{ type: 'text', text: `m${seq}` }],
  metadata,
  token_count: 1,
  inserted_at: '2025-01-01T00:00:00.000Z',
});

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
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-01T00:00:00.000Z',
});

const window = (version: number, used_tokens: number): Window => ({
  version,
  used_tokens,
  needs_compaction: used_tokens > 70,
  messages: [],
  segments: [],
});

const local = (id: string, extra: Partial<LocalMessage> = {}): LocalMessage => ({
  id,
  role: 'user',
  parts: [{ type: 'text', text: id }],
  metadata: {},
  state: 'sending',
  seq: null,
  uiMessageId: null,
  ...extra,
});

function run(actions: ContextAction[], limits = defaultContextLimits): ContextState {
  return actions.reduce((state, action) => contextReducer(state, action, limits), initialContextState);
}

const loaded: ContextAction = {
  type: 'loaded',
  context: context(2, 2),
  messages: [message(1), message(2)],
  window: window(2, 20),
};

describe('context reducer – status', () => {
  it('status – loading until the page and the open stream are both there, then live', () => {
    expect(run([{ type: 'started' }]).status).toBe('loading');
    expect(run([{ type: 'started' }, loaded]).status).toBe('loading');
    const live = run([{ type: 'started' }, loaded, { type: 'stream_status', status: 'open' }]);
    expect(live.status).toBe('live');
    expect(
      contextReducer(live, { type: 'stream_status', status: 'reconnecting' }, defaultContextLimits).status,
    ).toBe('reconnecting');
  });

  it('status – an error wins; a tombstone ends the view', () => {
    const live = run([loaded, { type: 'stream_status', status: 'open' }]);
    expect(contextReducer(live, { type: 'failed', error: new Error('x') }, defaultContextLimits).status).toBe(
      'error',
    );
    const dead = contextReducer(
      live,
      { type: 'event', event: { type: 'tombstoned', version: 3 } },
      defaultContextLimits,
    );
    expect(dead.status).toBe('tombstoned');
  });

  it('no-op actions return the same state object', () => {
    const live = run([loaded, { type: 'stream_status', status: 'open' }]);
    expect(contextReducer(live, { type: 'stream_status', status: 'open' }, defaultContextLimits)).toBe(live);
    expect(contextReducer(live, { type: 'local_removed', id: 'nope' }, defaultContextLimits)).toBe(live);
  });
});

describe('context reducer – window', () => {
  it('window – only newer versions replace the numbers, whichever source brings them', () => {
    const state = run([
      loaded,
      { type: 'event', event: { type: 'context', version: 4, used_tokens: 80, needs_compaction: true } },
      { type: 'window_loaded', window: window(3, 30) },
    ]);
    expect(state.window).toEqual({ version: 4, used_tokens: 80, needs_compaction: true });
    expect(state.version).toBe(4);
  });
});

describe('context reducer – messages', () => {
  it('messages – live events and overlapping pages are stored once per seq', () => {
    const state = run([
      loaded,
      { type: 'event', event: { type: 'message', version: 3, seq: 3, message: message(3) } },
      { type: 'event', event: { type: 'message', version: 3, seq: 3, message: message(3) } },
      {
        type: 'event',
        event: { type: 'gap_filled', version: 5, messages: [message(3), message(4)], context: context(5, 4) },
      },
    ]);
    expect(state.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('messages – the newest are kept within messagesMax', () => {
    const limits = { ...defaultContextLimits, messagesMax: 3 };
    const state = run(
      [
        loaded,
        ...[3, 4, 5].map(
          (seq): ContextAction => ({
            type: 'event',
            event: { type: 'message', version: seq, seq, message: message(seq) },
          }),
        ),
      ],
      limits,
    );
    expect(state.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
  });

  it('reset – drops everything loaded so the store reloads it', () => {
    const state = run([loaded, { type: 'event', event: { type: 'reset', version: 9 } }]);
    expect(state.messages).toEqual([]);
    expect(state.window).toBeUndefined();
    expect(state.status).toBe('loading');
  });
});

describe('context reducer – optimistic messages', () => {
  it('reconcile – an acknowledged local gives way to the log message with its seq and lends it its key', () => {
    const views = new MessageViewBuilder();
    let state = run([loaded, { type: 'local_upserted', message: local('a') }]);
    const before = views.build(state.messages, state.local, state.adoptedKeys);
    expect(before.map((r) => [r.key, r.state])).toEqual([
      ['seq:1', 'committed'],
      ['seq:2', 'committed'],
      ['local:a', 'sending'],
    ]);
    state = contextReducer(state, { type: 'local_committed', id: 'a', seq: 3 }, defaultContextLimits);
    expect(state.local[0]).toMatchObject({ state: 'sent', seq: 3 });
    state = contextReducer(
      state,
      { type: 'event', event: { type: 'message', version: 3, seq: 3, message: message(3) } },
      defaultContextLimits,
    );
    expect(state.local).toEqual([]);
    const after = views.build(state.messages, state.local, state.adoptedKeys);
    expect(after.map((r) => [r.key, r.seq, r.state])).toEqual([
      ['seq:1', 1, 'committed'],
      ['seq:2', 2, 'committed'],
      ['local:a', 3, 'committed'],
    ]);
  });

  it('reconcile – a streamed reply gives way to the log message with its UI id, even if that came first', () => {
    const stored = message(3, { ui_message_id: 'reply-1' });
    const state = run([
      loaded,
      { type: 'event', event: { type: 'message', version: 3, seq: 3, message: stored } },
      { type: 'local_upserted', message: local('reply-1', { uiMessageId: 'reply-1', state: 'streaming' }) },
    ]);
    expect(state.local).toEqual([]);
    expect(state.messages.at(-1)).toBe(stored);
  });

  it('locals – at most localMax at once, the oldest dropped first', () => {
    const limits = { ...defaultContextLimits, localMax: 2 };
    const state = run(
      ['a', 'b', 'c'].map((id): ContextAction => ({ type: 'local_upserted', message: local(id) })),
      limits,
    );
    expect(state.local.map((m) => m.id)).toEqual(['b', 'c']);
  });
});
