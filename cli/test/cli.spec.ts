import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, freePort, uniqueId } from './support/cli.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

describe('help and version', () => {
  it('prints the version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `fastpaca ${version}\n`, stderr: '' });
    expect(JSON.parse((await cli(['--version', '--json'])).stdout)).toEqual({ version });
  });

  it('lists every command and the exit codes with --help, and exits 2 without a command', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'contexts create',
      'contexts get',
      'contexts delete',
      'append',
      'window',
      'tail',
      'follow',
      'export',
      'import',
      'tokens create',
      'cluster status',
    ]) {
      expect(help.stdout).toContain(`  ${command}`);
    }
    expect(help.stdout).toMatch(/^ {2}6 +server unavailable/m);
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe(help.stdout);
  });

  it('shows a command’s options with --help, -h or help <command>', async () => {
    const help = await cli(['import', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: fastpaca import <id> \[options\]$/m);
    expect(help.stdout).toContain('--create');
    expect((await cli(['help', 'import'])).stdout).toBe(help.stdout);
    expect((await cli(['-h', 'import'])).stdout).toBe(help.stdout);
    const group = await cli(['contexts', '--help']);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('fastpaca contexts create <id>');
  });
});

describe('usage errors exit 2 with a message and a pointer to --help', () => {
  it.each([
    [['bogus'], "unknown command 'bogus'", 'fastpaca bogus --help'],
    [['contexts'], "'contexts' needs a command: create, get, delete", 'fastpaca contexts --help'],
    [['contexts', 'list'], "unknown command 'contexts list'", 'fastpaca contexts --help'],
    [['tail', 'x', '--bogus'], "Unknown option '--bogus'", 'fastpaca tail --help'],
    [['tail', 'x', '--limit'], "Option '--limit <value>' argument missing", 'fastpaca tail --help'],
    [['tail', 'x', '--limit', 'ten'], "--limit must be an integer 1–1000, got 'ten'", 'fastpaca tail --help'],
    [['tail'], 'missing <id>', 'fastpaca tail --help'],
    [['tail', 'a', 'b'], "unexpected argument 'b'", 'fastpaca tail --help'],
    [['window', 'no spaces'], "invalid context id 'no spaces'", 'fastpaca window --help'],
    [
      ['follow', 'x', '--from-seq', '1', '--after-seq', '1'],
      'give --from-seq or --after-seq',
      'fastpaca follow',
    ],
    [['get', '--url', 'localhost:4000', 'x'], "unknown command 'get'", 'fastpaca get --help'],
    [
      ['contexts', 'get', 'x', '--url', 'localhost:4000'],
      '--url must be an http:// or https:// URL',
      'fastpaca',
    ],
  ])('%j', async (args, message, hint) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`fastpaca: ${message}`);
    expect(result.stderr).toContain(hint);
  });

  it('reports errors as one JSON object on stderr with --json', async () => {
    const usage = await cli(['tail', 'x', '--limit', '0', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stderr)).toEqual({
      error: { code: 'usage', message: "--limit must be an integer 1–1000, got '0'", exit_code: 2 },
    });
    const missing = await cli(['--json', 'contexts', 'get', uniqueId('missing')]);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stderr).error).toMatchObject({ code: 'not_found', exit_code: 3 });
  });
});

describe('exit codes from the server', () => {
  it('exits 3 for a context that does not exist', async () => {
    const id = uniqueId('missing');
    for (const args of [
      ['contexts', 'get', id],
      ['contexts', 'delete', id],
      ['window', id],
      ['tail', id],
      ['append', id, 'x'],
    ]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(3);
      expect(result.stderr).toContain(id);
    }
  });

  it('exits 6 when the server cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await cli(['contexts', 'get', 'x'], { env: { FASTPACA_URL: url } });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('cannot reach the server');
    expect(result.stderr).toContain('ECONNREFUSED');
  });

  it('takes --url and global flags before or after the command', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const before = await cli(['--url', url, '--json', 'contexts', 'get', 'x']);
    expect(before.code).toBe(6);
    expect(JSON.parse(before.stderr).error.code).toBe('network_error');
  });
});
