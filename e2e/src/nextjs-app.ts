import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@fastpaca/server/testing';
import { type AppProcess, startAppProcess } from './app-process.js';

const root = join(import.meta.dirname, '..', '..');
export const nextjsExampleDir = join(root, 'examples', 'nextjs');
const nextBin = join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

export interface NextApp extends AppProcess {
  url: string;
}

/** Builds the app unless a build is there already (CI builds it as a dependency of this package). */
export function ensureNextBuilt(): void {
  if (existsSync(join(nextjsExampleDir, '.next', 'BUILD_ID'))) return;
  execFileSync(process.execPath, [nextBin, 'build'], {
    cwd: nextjsExampleDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: 'ignore',
  });
}

/** `next start` on a free port (known before the store starts, which must allow it as a CORS origin). */
export async function startNextApp(port: number, env: Record<string, string>): Promise<NextApp> {
  ensureNextBuilt();
  const app = await startAppProcess('next start', [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: nextjsExampleDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
    ready: /Ready in/,
  });
  return { url: `http://127.0.0.1:${port}`, ...app };
}

export { freePort };
