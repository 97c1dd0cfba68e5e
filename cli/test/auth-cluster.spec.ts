import { describe, expect, it } from 'vitest';
import { cli, cliJson, sdk, text, uniqueId } from './support/cli.js';

describe('tokens create', () => {
  it('mints a read-only token that can read its context but not append, nor open another', async () => {
    const id = uniqueId('token-read');
    const ctx = await sdk().context(id, { budget: 1_000 });
    await ctx.append(text('secret plans'));

    const minted = await cliJson(['tokens', 'create', id, '--rights', 'read', '--ttl', '10m']);
    expect(typeof minted.token).toBe('string');
    const ttl = Date.parse(minted.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(8 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000 + 2_000);

    const asToken = { env: { FASTPACA_TOKEN: minted.token } };
    const tail = await cli(['tail', id], asToken);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toContain('secret plans');
    expect(
      (await cli(['--token', minted.token, 'window', id, '--json'], { env: { FASTPACA_TOKEN: 'x' } })).code,
    ).toBe(0);

    const append = await cli(['append', id, 'sneaky'], asToken);
    expect(append.code).toBe(5);
    expect(append.stderr).toContain('append');
    const other = await cli(['tail', uniqueId('token-other')], asToken);
    expect(other.code).toBe(5);
    expect((await ctx.get()).last_seq).toBe(1);
  });

  it('prints only the token on stdout, so $(fastpaca tokens create …) works', async () => {
    const id = uniqueId('token-append');
    await sdk().context(id, { budget: 1_000 });
    const result = await cli(['tokens', 'create', id, '--rights', 'read,append']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\S+\n$/);
    expect(result.stderr).toMatch(/^expires at \S+ \(read, append on /);
    const token = result.stdout.trim();
    expect((await cli(['append', id, 'allowed'], { env: { FASTPACA_TOKEN: token } })).code).toBe(0);
  });

  it('rejects bad rights and lifetimes before any request', async () => {
    const id = uniqueId('token-bad');
    const rights = await cli(['tokens', 'create', id, '--rights', 'read,admin']);
    expect(rights.code).toBe(2);
    expect(rights.stderr).toContain("--rights must list read and/or append, got 'admin'");
    expect((await cli(['tokens', 'create', id, '--ttl', '2d'])).stderr).toContain(
      '--ttl must be at most 86400',
    );
    expect((await cli(['tokens', 'create', id, '--ttl', 'soon'])).code).toBe(2);
  });
});

describe('credentials', () => {
  it('exits 5 on a wrong or missing credential', async () => {
    const id = uniqueId('auth');
    await sdk().context(id, { budget: 1_000 });
    const wrong = await cli(['contexts', 'get', id], { env: { FASTPACA_TOKEN: 'not-the-key' } });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/^fastpaca: /);
    const missing = await cli(['contexts', 'get', id], { env: { FASTPACA_TOKEN: undefined } });
    expect(missing.code).toBe(5);
    // FASTPACA_API_KEY is the fallback when FASTPACA_TOKEN is unset.
    const apiKey = await cli(['contexts', 'get', id], {
      env: { FASTPACA_TOKEN: undefined, FASTPACA_API_KEY: 'cli-test-api-key-0123456789' },
    });
    expect(apiKey.code).toBe(0);
  });
});

describe('cluster status', () => {
  it('shows the single node, its 256 groups and their leaders', async () => {
    const view = await cliJson(['cluster', 'status']);
    expect(view.mode).toBe('single');
    expect(view.nodes).toHaveLength(1);
    expect(view.groups).toHaveLength(256);
    expect(view.groups.every((g: any) => g.leader === view.node)).toBe(true);
    expect(view.health).toEqual({
      status: 'ok',
      nodes_up: 1,
      nodes_active: 1,
      groups_with_leader: 256,
      groups: 256,
    });

    const human = await cli(['cluster', 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^mode +single$/m);
    expect(human.stdout).toMatch(/^health +ok: 1\/1 active nodes up, 256\/256 groups have a leader$/m);
    expect(human.stdout).toMatch(new RegExp(`^${view.node} \\* +- +active +up +256 +256$`, 'm'));
    const groups = await cli(['cluster', 'status', '--groups']);
    expect(groups.stdout).toMatch(new RegExp(`^255 +${view.node} +${view.node}$`, 'm'));
  });

  it('needs the API key', async () => {
    const id = uniqueId('cluster-token');
    await sdk().context(id, { budget: 1_000 });
    const { token } = await sdk()
      .contextHandle(id)
      .createToken({ rights: ['read'] });
    expect((await cli(['cluster', 'status'], { env: { FASTPACA_TOKEN: token } })).code).toBe(5);
  });
});
