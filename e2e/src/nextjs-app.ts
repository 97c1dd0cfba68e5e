import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@fastpaca/server/testing';

const root = join(import.meta.dirname, '..', '..');
export const nextjsExampleDir = join(root, 'examples', 'nextjs');
const nextBin = join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

export interface NextApp {
  url: string;
  output(): string;
  stop(): Promise<void>;
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
  const child: ChildProcess = spawn(
    process.execPath,
    [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: nextjsExampleDir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const collect = (chunk: Buffer) => {
    log += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 45_000;
  while (!/Ready in/.test(log)) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`next start not ready in time:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export { freePort };
