import { createClient } from '@fastpaca/sdk';
import { startServerProcess } from '@fastpaca/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, jsonLines, type RunningCli, sdk, spawnCli, text, uniqueId, waitFor } from './support/cli.js';

const running: RunningCli[] = [];

function follow(args: string[], env?: Record<string, string | undefined>): RunningCli {
  const child = spawnCli(['follow', ...args], env ? { env } : {});
  running.push(child);
  return child;
}

afterEach(() => {
  for (const { child } of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

const seqs = (cli: RunningCli) => jsonLines(cli.stdout()).map((m) => m.seq);

describe('follow', () => {
  it('prints messages appended after it started, then exits 0 on SIGINT', async () => {
    const id = uniqueId('follow-live');
    const ctx = await sdk().context(id, { budget: 10_000 });
    await ctx.append(text('before'));

    const live = follow([id, '--json']);
    await waitFor(() => live.stderr().includes(`following ${id}`), 'the stream to open');
    const appended = await cli(['append', id, '--role', 'assistant', 'live', 'one']);
    expect(appended.code).toBe(0);
    await waitFor(() => live.lines().length >= 1, 'the live message');

    const [message] = jsonLines(live.stdout());
    expect(message).toMatchObject({
      seq: 2,
      role: 'assistant',
      parts: [{ type: 'text', text: 'live one' }],
      metadata: {},
      token_count: 8,
    });
    live.child.kill('SIGINT');
    expect(await live.exited).toBe(0);
    expect(live.lines()).toHaveLength(1);
  });

  it('resumes from --from-seq or --after-seq: history first, then live, nothing twice', async () => {
    const id = uniqueId('follow-resume');
    const ctx = await sdk().context(id, { budget: 10_000 });
    for (const word of ['a', 'b', 'c']) await ctx.append(text(word));

    const fromTwo = follow([id, '--from-seq', '2', '--json']);
    const afterThree = follow([id, '--after-seq', '3']);
    await waitFor(() => fromTwo.lines().length >= 2, 'the history from seq 2');
    await waitFor(() => afterThree.stderr().includes('following'), 'the second stream to open');
    await ctx.append(text('d'));
    await waitFor(() => fromTwo.lines().length >= 3 && afterThree.lines().length >= 1, 'the live message');

    expect(seqs(fromTwo)).toEqual([2, 3, 4]);
    expect(afterThree.lines()).toEqual(['#4 user (1 tok): d']);
    fromTwo.child.kill('SIGINT');
    afterThree.child.kill('SIGTERM');
    expect(await fromTwo.exited).toBe(0);
    expect(await afterThree.exited).toBe(0);
    expect(seqs(fromTwo)).toEqual([2, 3, 4]);
  });

  it('ends by itself with exit 0 when the context is deleted', async () => {
    const id = uniqueId('follow-deleted');
    await sdk().context(id, { budget: 10_000 });
    const live = follow([id]);
    await waitFor(() => live.stderr().includes('following'), 'the stream to open');
    expect((await cli(['contexts', 'delete', id])).code).toBe(0);
    expect(await live.exited).toBe(0);
    expect(live.stderr()).toContain(`${id} was deleted`);
  });

  it('exits 3 for a context that does not exist', async () => {
    const result = await cli(['follow', uniqueId('follow-missing')]);
    expect(result.code).toBe(3);
  });

  it('reconnects after the server restarts and misses nothing', async () => {
    const apiKey = 'cli-follow-restart-key-0123';
    const env = { FASTPACA_API_KEY: apiKey, FASTPACA_TOKEN_ESTIMATOR: 'chars:1' };
    let server = await startServerProcess({ env });
    try {
      const id = uniqueId('follow-restart');
      const ctx = await createClient({ baseUrl: server.url, apiKey }).context(id, { budget: 10_000 });
      const live = follow([id, '--json'], { FASTPACA_URL: server.url, FASTPACA_TOKEN: apiKey });
      await waitFor(() => live.stderr().includes('following'), 'the stream to open');
      await ctx.append(text('before restart'));
      await waitFor(() => live.lines().length >= 1, 'the first message');

      await server.stop();
      server = await startServerProcess({ env, port: server.port, dataDir: server.dataDir });
      await createClient({ baseUrl: server.url, apiKey }).contextHandle(id).append(text('after restart'));
      await waitFor(() => live.lines().length >= 2, 'the message appended after the restart', 45_000);

      expect(jsonLines(live.stdout()).map((m) => m.parts[0].text)).toEqual([
        'before restart',
        'after restart',
      ]);
      expect(live.stderr()).toContain('reconnected');
      live.child.kill('SIGINT');
      expect(await live.exited).toBe(0);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});
