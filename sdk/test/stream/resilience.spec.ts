import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type SubscriptionStatus } from '../../src/index.js';
import { checkDelivery, collect, deliveredMessages } from '../support/events.js';
import { type ServerProcess, startServer, stopServer, text, uniqueId, waitFor } from '../support/server.js';

const fastReconnect = { baseDelayMs: 20, maxDelayMs: 200 };

describe('subscribe – resilience against a real server', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    if (server?.child.signalCode === null && server.child.exitCode === null) server.child.kill('SIGCONT');
    await stopServer(server);
    server = undefined;
  });

  it('survives a server restart and resumes with no gap and no duplicate', async () => {
    server = await startServer();
    const { port, dataDir } = server;
    const client = createClient({ baseUrl: server.url });
    const ctx = await client.context(uniqueId('restart'), { budget: 100_000 });
    const statuses: SubscriptionStatus[] = [];
    const stream = ctx.subscribe({ reconnect: fastReconnect, onStatus: (s) => statuses.push(s) });
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    for (let i = 1; i <= 3; i++) await ctx.append(text(`before ${i}`));
    await waitFor(() => deliveredMessages(events).length === 3);

    await server.kill();
    await waitFor(() => stream.status === 'reconnecting', 5_000, 'reconnecting');
    server = await startServer({ dataDir, port });
    // Appends right after the restart race the reconnect: whether they are replayed,
    // filled through a gap or delivered live, each must arrive once.
    for (let i = 1; i <= 3; i++) await ctx.append(text(`after ${i}`));
    await waitFor(() => stream.status === 'open', 10_000, 'reopened');
    for (let i = 4; i <= 5; i++) await ctx.append(text(`after ${i}`));
    await waitFor(() => deliveredMessages(events).length === 8, 10_000, 'all messages');

    stream.abort();
    await stream.done;
    checkDelivery(events);
    expect(deliveredMessages(events).map((m) => m.parts[0]?.text)).toEqual([
      'before 1',
      'before 2',
      'before 3',
      'after 1',
      'after 2',
      'after 3',
      'after 4',
      'after 5',
    ]);
    expect(statuses).toContain('reconnecting');
    expect(statuses.at(-1)).toBe('closed');
  });

  it('a restart that loses the replay buffer: what was appended meanwhile arrives once, through a gap fill', async () => {
    server = await startServer({ env: { FASTPACA_STREAM_REPLAY_VERSIONS: '1' } });
    const { port, dataDir } = server;
    const ctx = await createClient({ baseUrl: server.url }).context(uniqueId('restart-gap'), {
      budget: 100_000,
    });
    // The subscription asks for a credential before every connection; holding it back keeps the
    // client away until the server has moved on past what it can replay.
    let gate: Promise<void> = Promise.resolve();
    let openGate = () => {};
    const gated = createClient({
      baseUrl: server.url,
      token: async () => {
        await gate;
        return 'unused-when-auth-is-off';
      },
    }).contextHandle(ctx.id);
    const stream = gated.subscribe({ reconnect: fastReconnect });
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    await ctx.append(text('before'));
    await waitFor(() => events.length === 2);

    gate = new Promise((resolve) => {
      openGate = resolve;
    });
    await server.kill();
    server = await startServer({ dataDir, port, env: { FASTPACA_STREAM_REPLAY_VERSIONS: '1' } });
    for (let i = 1; i <= 3; i++) await ctx.append(text(`while away ${i}`));
    openGate();
    await waitFor(() => deliveredMessages(events).length === 4, 10_000, 'gap filled');
    await ctx.append(text('live again'));
    await waitFor(() => deliveredMessages(events).length === 5, 5_000, 'live');
    stream.abort();

    checkDelivery(events);
    expect(events.map((e) => e.type)).toEqual(['message', 'context', 'gap_filled', 'message', 'context']);
    expect(deliveredMessages(events).map((m) => m.parts[0]?.text)).toEqual([
      'before',
      'while away 1',
      'while away 2',
      'while away 3',
      'live again',
    ]);
  });

  it('fills a gap: a cursor older than the replay buffer gets the missed messages once, then live events', async () => {
    server = await startServer({ env: { FASTPACA_STREAM_REPLAY_VERSIONS: '2' } });
    const client = createClient({ baseUrl: server.url });
    const ctx = await client.context(uniqueId('gap'), { budget: 100_000 });
    for (let i = 1; i <= 6; i++) await ctx.append(text(`m${i}`));

    const stream = ctx.subscribe({ cursor: 1, lastSeq: 1 });
    const { events } = collect(stream);
    await waitFor(() => events.length === 1, 5_000, 'gap filled');
    await ctx.append(text('m7'));
    await waitFor(() => deliveredMessages(events).length === 6, 5_000, 'gap fill and live');
    stream.abort();

    checkDelivery(events, 2);
    expect(events[0]).toMatchObject({ type: 'gap_filled', version: 6, context: { version: 6, last_seq: 6 } });
    expect(deliveredMessages(events).map((m) => m.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(events.slice(1).map((e) => [e.type, e.version])).toEqual([
      ['message', 7],
      ['context', 7],
    ]);
  });

  it('a gap that cannot be filled (no lastSeq) is a reset with the current version', async () => {
    server = await startServer({ env: { FASTPACA_STREAM_REPLAY_VERSIONS: '1' } });
    const ctx = await createClient({ baseUrl: server.url }).context(uniqueId('gap-reset'), {
      budget: 10_000,
    });
    for (let i = 1; i <= 3; i++) await ctx.append(text(`m${i}`));
    const stream = ctx.subscribe({ cursor: 0 });
    const { events } = collect(stream);
    await waitFor(() => events.length === 1);
    stream.abort();
    expect(events).toEqual([{ type: 'reset', version: 3 }]);
  });

  it('a slow consumer pauses reading instead of buffering without bound, and misses nothing', async () => {
    server = await startServer({ env: { FASTPACA_STREAM_REPLAY_VERSIONS: '3' } });
    const client = createClient({ baseUrl: server.url });
    const ctx = await client.context(uniqueId('slow'), { budget: 1_000_000 });
    const statuses: SubscriptionStatus[] = [];
    const stream = ctx.subscribe({ bufferSize: 4, onStatus: (s) => statuses.push(s) });
    await waitFor(() => stream.status === 'open');
    for (let i = 1; i <= 20; i++) await ctx.append(text(`m${i}`));
    await waitFor(() => stream.status === 'paused', 5_000, 'paused');

    const events = [];
    for await (const event of stream) {
      events.push(event);
      if (deliveredMessages(events).length === 20) break;
    }
    checkDelivery(events);
    expect(deliveredMessages(events).map((m) => m.parts[0]?.text)).toEqual(
      Array.from({ length: 20 }, (_, i) => `m${i + 1}`),
    );
    // Twenty messages went through a four-event buffer: it paused, resumed, and filled a gap on the way.
    expect(statuses.filter((s) => s === 'paused').length).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.type === 'gap_filled')).toBe(true);
  });

  it('notices a frozen server by its silence, reconnects when it thaws, and loses nothing', async () => {
    server = await startServer({
      env: { FASTPACA_STREAM_PING_INTERVAL_MS: '100', FASTPACA_STREAM_PONG_TIMEOUT_MS: '60000' },
    });
    const client = createClient({ baseUrl: server.url });
    const ctx = await client.context(uniqueId('frozen'), { budget: 100_000 });
    const stream = ctx.subscribe({
      heartbeatTimeoutMs: 400,
      connectTimeoutMs: 300,
      reconnect: fastReconnect,
    });
    const { events } = collect(stream);
    await waitFor(() => stream.status === 'open');
    await ctx.append(text('before'));
    await waitFor(() => events.length === 2);

    server.child.kill('SIGSTOP');
    await waitFor(() => stream.status === 'reconnecting', 5_000, 'silence noticed');
    server.child.kill('SIGCONT');
    await ctx.append(text('after'));
    await waitFor(() => deliveredMessages(events).length === 2, 10_000, 'after thaw');
    stream.abort();
    checkDelivery(events);
  });

  it('abort ends a reconnecting subscription and leaves no socket or timer behind', async () => {
    server = await startServer();
    const ctx = await createClient({ baseUrl: server.url }).context(uniqueId('handles'), { budget: 10_000 });
    const baseline = resourceCounts();

    const controller = new AbortController();
    const live = ctx.subscribe({ cursor: 0, lastSeq: 0, signal: controller.signal });
    const { finished } = collect(live);
    await waitFor(() => live.status === 'open');
    // The websocket and its heartbeat timer are live now.
    expect(resourceCounts().TCPSocketWrap ?? 0).toBeGreaterThanOrEqual(1);
    expect(resourceCounts().Timeout ?? 0).toBeGreaterThanOrEqual(1);
    controller.abort();
    expect(await live.done).toEqual({ reason: 'aborted' });
    expect(await finished).toBeUndefined();

    // A second one waits in backoff against a dead server when it is aborted.
    await server.kill();
    const waiting = ctx.subscribe({
      cursor: 0,
      lastSeq: 0,
      reconnect: { baseDelayMs: 5_000, maxDelayMs: 5_000 },
    });
    await waitFor(() => waiting.status === 'reconnecting');
    waiting.abort();
    expect(await waiting.done).toEqual({ reason: 'aborted' });

    await waitFor(
      () => {
        const now = resourceCounts();
        return (
          (now.TCPSocketWrap ?? 0) <= (baseline.TCPSocketWrap ?? 0) &&
          (now.Timeout ?? 0) <= (baseline.Timeout ?? 0)
        );
      },
      3_000,
      'sockets and timers released',
    );
  });

  it('over the connection cap (503) it backs off and connects once a slot frees up', async () => {
    server = await startServer({ env: { FASTPACA_STREAM_MAX_CONNECTIONS: '1' } });
    const ctx = await createClient({ baseUrl: server.url }).context(uniqueId('cap'), { budget: 10_000 });
    const first = ctx.subscribe({ cursor: 0, lastSeq: 0 });
    collect(first);
    await waitFor(() => first.status === 'open');
    const statuses: SubscriptionStatus[] = [];
    const second = ctx.subscribe({
      cursor: 0,
      lastSeq: 0,
      reconnect: fastReconnect,
      onStatus: (s) => statuses.push(s),
    });
    const { events } = collect(second);
    await waitFor(() => second.status === 'reconnecting', 5_000, 'refused');
    first.abort();
    await first.done;
    await waitFor(() => second.status === 'open', 5_000, 'second connected');
    await ctx.append(text('both ways'));
    await waitFor(() => events.length === 2);
    second.abort();
    expect(statuses[0]).toBe('reconnecting');
  });
});

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}
