import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServer, stopServer } from '../support/server.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const sdkRoot = fileURLToPath(new URL('../..', import.meta.url));
const runtimeDependencies = ['@ts-rest/core', 'ws', 'zod'];

let scratch: string;
let installed: string;
let server: ServerProcess;

/**
 * Installs the packed tarball into a scratch project outside the repository,
 * the way a user would, but offline: the runtime dependencies are given as
 * `file:` links to the copies already installed in this workspace, so npm
 * resolves every dependency of the tarball locally and never asks a registry
 * (an empty npm cache works too). Living outside the repository, the scratch
 * project cannot fall back on the workspace's node_modules: anything the
 * package needs but does not declare or bundle (such as `@fastpaca/contract`)
 * fails to resolve here.
 */
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'fastpaca-sdk-pack-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: sdkRoot });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const links = Object.fromEntries(
    runtimeDependencies.map((name) => [name, `file:${dirname(require.resolve(`${name}/package.json`))}`]),
  );
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({
      name: 'scratch',
      private: true,
      dependencies: { '@fastpaca/sdk': `file:./${filename}`, ...links },
    }),
  );
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: scratch });
  installed = join(scratch, 'node_modules', '@fastpaca', 'sdk');
  server = await startServer();
}, 120_000);

afterAll(async () => {
  await stopServer(server);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('npm package – contents', () => {
  it('ships dist and README only, declares only its runtime dependencies, and bundles the contract', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual(runtimeDependencies);
    expect(pkg.sideEffects).toBe(false);
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'dist', 'package.json']);
    const dist = readdirSync(join(installed, 'dist'));
    for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts', 'browser.js', 'browser.cjs']) {
      expect(dist).toContain(file);
    }
    for (const file of dist.filter((f) => /\.(c?js|d\.c?ts)$/.test(f))) {
      const code = readFileSync(join(installed, 'dist', file), 'utf8');
      expect(code).not.toMatch(/(from\s*|require\(\s*|import\(\s*)["']@fastpaca\/contract/);
    }
  });
});

describe('npm package – runs as ESM and as CommonJS', () => {
  const program = (load: string, resolved: string) => `${load}
const url = process.argv[2];
const ctx = await sdk.createClient({ baseUrl: url }).context('pack-' + process.argv[3], { budget: 1000 });
const stream = ctx.subscribe();
const received = new Promise((resolve) => {
  (async () => {
    for await (const event of stream) if (event.type === 'message') return resolve(event.message.parts[0].text);
  })();
});
while (stream.status !== 'open') await new Promise((r) => setTimeout(r, 10));
const appended = await ctx.append({ role: 'user', parts: [{ type: 'text', text: 'hello from ' + process.argv[3] }] });
const text = await received;
stream.abort();
await stream.done;
const conflict = await ctx.append({ role: 'user', parts: [{ type: 'text', text: 'x' }] }, { ifVersion: 0 }).catch((e) => e);
console.log(JSON.stringify({ resolved: ${resolved}, seq: appended.seq, text, conflict: sdk.ConflictError.isInstance(conflict) }));
`;

  it.each([
    ['esm', 'esm.mjs', "import * as sdk from '@fastpaca/sdk';", "import.meta.resolve('@fastpaca/sdk')"],
    [
      'cjs',
      'cjs.cjs',
      "const sdk = require('@fastpaca/sdk');\n(async () => {",
      "require.resolve('@fastpaca/sdk')",
    ],
  ])('%s: imports, appends, streams, and exits on its own', async (name, file, load, resolved) => {
    const source = program(load, resolved) + (name === 'cjs' ? '})();\n' : '');
    writeFileSync(join(scratch, file), source);
    // The process has to exit by itself: a leaked socket or timer would hold it open past the timeout.
    const { stdout } = await run(process.execPath, [file, server.url, name], {
      cwd: scratch,
      timeout: 20_000,
    });
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({ seq: 1, text: `hello from ${name}`, conflict: true });
    expect(result.resolved).toContain(join(scratch, 'node_modules', '@fastpaca', 'sdk', 'dist'));
    expect(result.resolved).toMatch(name === 'esm' ? /index\.js$/ : /index\.cjs$/);
  });
});

describe('npm package – types', () => {
  it('type-checks for ESM and CommonJS consumers without the contract installed', async () => {
    const consumer = `import { createClient, ConflictError, type Context, type SubscriptionEvent } from '@fastpaca/sdk';
const client = createClient({ baseUrl: 'http://localhost:4000', retry: { maxAttempts: 3 } });
export async function main(): Promise<number> {
  const ctx = await client.context('c', { budget: 100, policy: { strategy: 'manual' } });
  const info: Context = await ctx.get();
  for await (const event of ctx.subscribe({ cursor: info.version })) {
    const e: SubscriptionEvent = event;
    if (e.type === 'message') return e.message.seq;
  }
  try {
    await ctx.append({ role: 'user', parts: [{ type: 'text', text: 'x' }] }, { ifVersion: info.version });
  } catch (error) {
    if (ConflictError.isInstance(error)) return error.found ?? 0;
  }
  // @ts-expect-error parts is required: the declarations are real types, not any
  await ctx.append({ role: 'user' });
  return info.last_seq;
}
`;
    writeFileSync(join(scratch, 'consumer.mts'), consumer);
    writeFileSync(join(scratch, 'consumer.cts'), consumer);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', scratch], { cwd: scratch }).catch(
      (error: { stdout: string }) => error,
    );
    expect(result.stdout).toBe('');
  });
});

describe('npm package – browser bundle', () => {
  const bundle = (contents: string, format: 'esm' | 'cjs') =>
    build({
      stdin: { contents, resolveDir: scratch, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });

  it.each([
    [
      'import',
      "import { createClient } from '@fastpaca/sdk'; globalThis.c = createClient;",
      'esm',
      'browser.js',
    ],
    ['require', "globalThis.c = require('@fastpaca/sdk').createClient;", 'cjs', 'browser.cjs'],
    [
      'subpath',
      "import { createClient } from '@fastpaca/sdk/browser'; globalThis.c = createClient;",
      'esm',
      'browser.js',
    ],
  ] as const)(
    '%s resolves the browser entry and pulls in no ws and no node: modules',
    async (_, code, format, entry) => {
      const result = await bundle(code, format);
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.some((path) => path.endsWith(`@fastpaca/sdk/dist/${entry}`))).toBe(true);
      expect(
        inputs.filter((path) => /\/ws\/|^node:|^(events|http|https|net|tls|crypto|stream|zlib)$/.test(path)),
      ).toEqual([]);
      const output = result.outputFiles[0]!.text;
      expect(output).not.toMatch(/from\s*["'](ws|node:[a-z_]+)["']|require\(["'](ws|node:[a-z_]+)["']\)/);
      expect(output).toContain('fastpaca.token.');
    },
  );

  it('the Node entry, by contrast, drags ws in (the check above can fail)', async () => {
    const result = await bundle(`import '${join(installed, 'dist', 'index.js')}';`, 'esm');
    expect(Object.keys(result.metafile.inputs).some((path) => /\/ws\//.test(path))).toBe(true);
  });
});
