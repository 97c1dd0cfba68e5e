import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the real server binary as a child process, for black-box tests in this
 * package and in the SDK, React and e2e packages.
 */
export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Removes the data directory (after stop or kill). */
  cleanup(): void;
}

export interface StartServerOptions {
  env?: Record<string, string>;
  /** Reuse a data directory, e.g. to restart after a crash. */
  dataDir?: string;
  port?: number;
  readyPath?: string;
  timeoutMs?: number;
  /** The script to run instead of the server's `main.js` (e.g. `plantedBugsMainPath`). */
  entry?: string;
}

/** Both `src/testing` and `dist/testing` sit two levels below the package root. */
export const serverMainPath = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
/** The test-only entry point that plants the bugs named in FASTPACA_TEST_PLANTED_BUGS. */
export const plantedBugsMainPath = fileURLToPath(
  new URL('../../dist/testing/planted-bugs-main.js', import.meta.url),
);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startServerProcess(options: StartServerOptions = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'fastpaca-test-'));
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(process.execPath, [options.entry ?? serverMainPath], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      FASTPACA_RAFT_DATA_DIR: dataDir,
      FASTPACA_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const readyPath = options.readyPath ?? '/health/ready';
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode} before ready:\n${log}`);
    try {
      const res = await fetch(url + readyPath);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready on ${url}${readyPath} in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url,
    port,
    dataDir,
    child,
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Stops a server a test started, if it did, and removes its data directory. */
export async function stopServerProcess(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  await server.stop();
  server.cleanup();
}

let idCounter = 0;

/** A context id that no other test, in this process or another, uses. */
export function uniqueContextId(prefix: string): string {
  idCounter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${idCounter}`;
}
