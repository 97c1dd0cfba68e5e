import { describe, expect, it } from 'vitest';
import { cli, cliJson, uniqueId } from './support/cli.js';

describe('contexts', () => {
  it('creates, shows and deletes a context', async () => {
    const id = uniqueId('ctx');
    const created = await cliJson([
      'contexts',
      'create',
      id,
      '--budget',
      '500',
      '--trigger',
      '0.5',
      '--policy',
      'manual',
      '--metadata',
      '{"owner":"u-1","tags":["a"]}',
    ]);
    expect(created).toMatchObject({
      id,
      token_budget: 500,
      trigger_ratio: 0.5,
      policy: { strategy: 'manual' },
      metadata: { owner: 'u-1', tags: ['a'] },
      status: 'active',
      version: 0,
      last_seq: 0,
    });

    const shown = await cli(['contexts', 'get', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id +${id}$`, 'm'));
    expect(shown.stdout).toMatch(/^token_budget +500$/m);
    expect(shown.stdout).toMatch(/^policy +manual$/m);
    expect(shown.stdout).toMatch(/^status +active$/m);

    const deleted = await cli(['contexts', 'delete', id]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(`deleted ${id}`);
    expect((await cliJson(['contexts', 'get', id])).status).toBe('tombstoned');

    // A deleted context refuses appends: a conflict.
    const append = await cli(['append', id, 'too late']);
    expect(append.code).toBe(4);
  });

  it('keeps settings that are not given, and uses the defaults on a new context', async () => {
    const id = uniqueId('ctx-defaults');
    const fresh = await cliJson(['contexts', 'create', id]);
    expect(fresh).toMatchObject({ token_budget: 8000, trigger_ratio: 0.7, policy: { strategy: 'last_n' } });

    await cliJson(['contexts', 'create', id, '--budget', '1234']);
    const updated = await cliJson(['contexts', 'create', id, '--trigger', '0.9']);
    expect(updated).toMatchObject({ token_budget: 1234, trigger_ratio: 0.9 });

    const again = await cliJson(['contexts', 'create', id]);
    expect(again).toMatchObject({ token_budget: 1234, trigger_ratio: 0.9, version: updated.version });
  });

  it('configures skip_parts and last_n policies from flags', async () => {
    const id = uniqueId('ctx-policy');
    const skip = await cliJson([
      'contexts',
      'create',
      id,
      '--policy',
      'skip_parts',
      '--skip-kinds',
      'reasoning,tool-',
      '--limit',
      '50',
    ]);
    expect(skip.policy).toEqual({
      strategy: 'skip_parts',
      config: { skip_kinds: ['reasoning', 'tool-'], limit: 50 },
    });
    const lastN = await cliJson(['contexts', 'create', id, '--policy', 'last_n', '--limit', '7']);
    expect(lastN.policy).toEqual({ strategy: 'last_n', config: { limit: 7 } });
    expect((await cli(['contexts', 'get', id])).stdout).toMatch(/^policy +last_n \(limit 7\)$/m);
  });

  it('rejects inconsistent policy flags as usage errors, without a request', async () => {
    const id = uniqueId('ctx-bad');
    const cases = [
      [['--limit', '5'], '--limit and --skip-kinds configure a policy'],
      [['--policy', 'manual', '--limit', '5'], '--policy manual takes neither'],
      [['--policy', 'lru'], "--policy must be last_n, skip_parts or manual, got 'lru'"],
      [['--trigger', '1.5'], '--trigger must be in (0, 1]'],
      [['--budget', '0'], '--budget must be an integer'],
      [['--metadata', '[1]'], '--metadata must be a JSON object'],
    ] as const;
    for (const [flags, message] of cases) {
      const result = await cli(['contexts', 'create', id, ...flags]);
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain("Run 'fastpaca contexts create --help'");
    }
    expect((await cli(['contexts', 'get', id])).code).toBe(3);
  });
});
