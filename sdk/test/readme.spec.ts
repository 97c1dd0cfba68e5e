import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServer, stopServer } from './support/server.js';

const run = promisify(execFile);
const sdkRoot = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'readme-api-key-0123456789';

/** The first ts code block after the quickstart marker: what a reader copies. */
function quickStart(): string {
  const readme = readFileSync(join(sdkRoot, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- quickstart');
  expect(marker).toBeGreaterThan(-1);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(marker));
  expect(block).not.toBeNull();
  return block![1]!;
}

let server: ServerProcess;
const scratch = join(sdkRoot, 'tmp', `readme-${process.pid}`);

beforeAll(async () => {
  server = await startServer({ env: { FASTPACA_API_KEY: KEY } });
  mkdirSync(scratch, { recursive: true });
});
afterAll(async () => {
  await stopServer(server);
  rmSync(scratch, { recursive: true, force: true });
});

describe('README – quick start', () => {
  it('runs as written against a real server and exits on its own', async () => {
    const { code } = await transform(quickStart(), { loader: 'ts', format: 'esm' });
    // Inside the package folder, `@fastpaca/sdk` resolves to this package's build, as it would for a user.
    const file = join(scratch, 'quickstart.mjs');
    writeFileSync(file, code);
    const { stdout } = await run(process.execPath, [file], {
      cwd: scratch,
      timeout: 20_000,
      // Colour codes around console.log's numbers would change the output (task runners set FORCE_COLOR).
      env: {
        ...process.env,
        FORCE_COLOR: '0',
        NO_COLOR: '1',
        FASTPACA_URL: server.url,
        FASTPACA_API_KEY: KEY,
      },
    });
    // The live event and the append's answer race each other; the lines are compared as a set.
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        'live: Hello!',
        'appended seq 1 at version 1',
        'window now holds 6 tokens',
        'window: 1 message(s), 6 tokens',
      ].sort(),
    );
  });
});
