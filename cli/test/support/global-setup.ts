import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess, stopServerProcess } from '@fastpaca/server/testing';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
    apiKey: string;
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The tests run the built binary; build it when it is missing or older than the sources. */
function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist/main.js')).mtimeMs;
  } catch {}
  if (built >= newestSource(join(root, 'src'))) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // As the package's build script does: the bin must be executable for `npx fastpaca`.
  chmodSync(join(root, 'dist/main.js'), 0o755);
}

export default async function setup(project: TestProject) {
  ensureBuilt();
  const apiKey = 'cli-test-api-key-0123456789';
  const server = await startServerProcess({
    // One token per character, so token counts are predictable.
    env: { FASTPACA_API_KEY: apiKey, FASTPACA_TOKEN_ESTIMATOR: 'chars:1' },
  });
  project.provide('serverUrl', server.url);
  project.provide('apiKey', apiKey);
  return async () => {
    await stopServerProcess(server);
  };
}
