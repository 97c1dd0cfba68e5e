import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  type FastpacaClient,
  NotFoundError,
  type SubscriptionEvent,
  type SubscriptionStatus,
} from '../../src/index.js';
import { checkDelivery, collect, deliveredMessages } from '../support/events.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId, waitFor } from '../support/server.js';

let server: ServerProcess;
let client: FastpacaClient;

beforeAll(async () => {
  server = await startServer({
    // Short enough that a client which never answers pings is dropped within the heartbeat test,
    // long enough that a busy test machine does not drop one that does.
    env: { FASTPACA_STREAM_PING_INTERVAL_MS: '100', FASTPACA_STREAM_PONG_TIMEOUT_MS: '800' },
  });
  client = createClient({ baseUrl: server.url });
});
afterAll(() => stopServer(server));

describe('subscribe – async iterator', () => {
  it('delivers message, compaction and context events of each version, in order', async () => {
    const ctx = await client.context(uniqueId('iter'), {
      // One token per character: the third append (3 + 3 + 5 > 8) trims the window.
      budget: 8,
      trigger: 1,
    });
    const stream = ctx.subscribe();
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open', 5_000, 'open');
    await ctx.append(text('one'));
    await ctx.append(text('two'));
    await ctx.append(text('three'));
    await waitFor(() => events.filter((e) => e.type === 'context').length === 3, 5_000, 'three versions');
    stream.abort();
    expect(await stream.done).toEqual({ reason: 'aborted' });
    checkDelivery(events);
    expect(events.map((e) => [e.type, e.version])).toEqual([
      ['message', 1],
      ['context', 1],
      ['message', 2],
      ['context', 2],
      ['message', 3],
      ['compaction', 3],
      ['context', 3],
    ]);
    expect(deliveredMessages(events).map((m) => m.parts[0]?.text)).toEqual(['one', 'two', 'three']);
    expect(events[5]).toMatchObject({ type: 'compaction', range: { from_seq: 1, to_seq: 1 } });
    expect(events[6]).toMatchObject({ type: 'context', used_tokens: 8, needs_compaction: false });
    expect(stream.version).toBe(3);
  });

  it('replays from a cursor, then goes live; includeMessages: false leaves messages out', async () => {
    const ctx = await client.context(uniqueId('cursor'), { budget: 10_000 });
    for (let i = 1; i <= 4; i++) await ctx.append(text(`m${i}`));
    const withMessages = ctx.subscribe({ cursor: 2, lastSeq: 2 });
    const withoutMessages = ctx.subscribe({ cursor: 2, includeMessages: false });
    const a = collect(withMessages);
    const b = collect(withoutMessages);
    await waitFor(() => withMessages.status === 'open' && withoutMessages.status === 'open');
    await ctx.append(text('m5'));
    await waitFor(() => a.events.length === 6 && b.events.length === 3, 5_000, 'replay and live');
    withMessages.abort();
    withoutMessages.abort();
    checkDelivery(a.events, 3);
    expect(deliveredMessages(a.events).map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(b.events.map((e) => [e.type, e.version])).toEqual([
      ['context', 3],
      ['context', 4],
      ['context', 5],
    ]);
  });

  it('breaking out of for-await aborts the subscription', async () => {
    const ctx = await client.context(uniqueId('break'), { budget: 10_000 });
    await ctx.append(text('a'));
    const stream = ctx.subscribe({ cursor: 0, lastSeq: 0 });
    const seen: SubscriptionEvent[] = [];
    for await (const event of stream) {
      seen.push(event);
      if (event.type === 'context') break;
    }
    expect(seen.map((e) => e.type)).toEqual(['message', 'context']);
    expect(await stream.done).toEqual({ reason: 'aborted' });
    expect(stream.status).toBe('closed');
  });

  it('a cursor ahead of the server yields a reset, then live events from the server version', async () => {
    const ctx = await client.context(uniqueId('reset'), { budget: 10_000 });
    await ctx.append(text('a'));
    const stream = ctx.subscribe({ cursor: 50, lastSeq: 50 });
    const { events } = collect(stream);
    await waitFor(() => events.length === 1);
    await ctx.append(text('b'));
    await waitFor(() => events.length === 3);
    stream.abort();
    expect(events.map((e) => [e.type, e.version])).toEqual([
      ['reset', 1],
      ['message', 2],
      ['context', 2],
    ]);
  });
});

describe('subscribe – callbacks', () => {
  it('onEvent receives events; an async handler is awaited before the next event', async () => {
    const ctx = await client.context(uniqueId('callback'), { budget: 10_000 });
    const received: string[] = [];
    let inHandler = 0;
    let overlapped = false;
    const statuses: SubscriptionStatus[] = [];
    const sub = ctx.subscribe({
      onStatus: (s) => statuses.push(s),
      onEvent: async (event) => {
        inHandler++;
        if (inHandler > 1) overlapped = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
        received.push(`${event.type}@${event.version}`);
        inHandler--;
      },
    });
    await waitFor(() => sub.status === 'open');
    await ctx.append(text('x'));
    await ctx.append(text('y'));
    await waitFor(() => received.length === 4);
    sub.abort();
    await sub.done;
    expect(received).toEqual(['message@1', 'context@1', 'message@2', 'context@2']);
    expect(overlapped).toBe(false);
    expect(statuses).toEqual(['open', 'closed']);
  });

  it('an error thrown by onEvent ends the subscription and reaches onError and done', async () => {
    const ctx = await client.context(uniqueId('callback-error'), { budget: 10_000 });
    const errors: Error[] = [];
    const sub = ctx.subscribe({
      onEvent: () => {
        throw new Error('handler broke');
      },
      onError: (error) => errors.push(error),
    });
    await waitFor(() => sub.status === 'open');
    await ctx.append(text('x'));
    const end = await sub.done;
    expect(end.reason).toBe('error');
    expect(errors.map((e) => e.message)).toEqual(['handler broke']);
  });

  it('an unknown context ends with NotFoundError, with or without a cursor', async () => {
    const missing = client.contextHandle(uniqueId('missing'));
    for (const options of [{}, { cursor: 0 }]) {
      const errors: Error[] = [];
      const sub = missing.subscribe({ ...options, onEvent: () => {}, onError: (e) => errors.push(e) });
      const end = await sub.done;
      expect(end.reason).toBe('error');
      expect(NotFoundError.isInstance(end.reason === 'error' ? end.error : undefined)).toBe(true);
      await waitFor(() => errors.length === 1);
      expect(NotFoundError.isInstance(errors[0])).toBe(true);
    }
  });
});

describe('subscribe – heartbeat', () => {
  it('answers pings: the server keeps the connection past its pong timeout', async () => {
    const ctx = await client.context(uniqueId('ping'), { budget: 10_000 });
    const statuses: SubscriptionStatus[] = [];
    const stream = ctx.subscribe({ onStatus: (s) => statuses.push(s) });
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    // Twenty ping intervals and two and a half pong timeouts.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await ctx.append(text('still here'));
    await waitFor(() => events.length === 2);
    stream.abort();
    await stream.done;
    expect(statuses).toEqual(['open', 'closed']);
  });
});

describe('subscribe – end of a context', () => {
  it('tombstone: the iterator yields tombstoned and ends', async () => {
    const ctx = await client.context(uniqueId('tombstone'), { budget: 10_000 });
    const stream = ctx.subscribe();
    const { events, finished } = collect(stream);
    await waitFor(() => stream.status === 'open');
    await ctx.append(text('last words'));
    await ctx.delete();
    expect(await finished).toBeUndefined();
    expect(await stream.done).toEqual({ reason: 'tombstoned' });
    expect(events.map((e) => e.type)).toEqual(['message', 'context', 'tombstoned']);
    expect(stream.status).toBe('closed');
  });

  it('subscribing to a tombstoned context yields tombstoned at once', async () => {
    const ctx = await client.context(uniqueId('dead'), { budget: 10_000 });
    await ctx.delete();
    const { events, finished } = collect(ctx.subscribe());
    await finished;
    expect(events).toEqual([{ type: 'tombstoned', version: 1 }]);
  });
});
