import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fastpaca/server/testing';

const root = join(import.meta.dirname, '..', '..');
export const chatExampleDir = join(root, 'examples', 'chat');

export interface ChatApp {
  url: string;
  output(): string;
  /** SIGTERM (the app stops its store too), wait for exit, remove the data directory. */
  stop(): Promise<void>;
}

/** Builds the chat page unless a build is there already (CI builds it as a dependency of this package). */
export function ensureChatBuilt(): void {
  if (existsSync(join(chatExampleDir, 'dist', 'index.html'))) return;
  execFileSync(join(root, 'node_modules', '.bin', 'vite'), ['build'], {
    cwd: chatExampleDir,
    stdio: 'ignore',
  });
}

/**
 * Runs the chat example the way its README says (`tsx src/server/main.ts`):
 * it starts its own store with a fresh data directory, the backend, and
 * serves the built page, all on one port.
 */
export async function startChatApp(env: Record<string, string> = {}): Promise<ChatApp> {
  ensureChatBuilt();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'fastpaca-chat-e2e-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: chatExampleDir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', CHAT_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 45_000;
  while (!log.includes('Chat ready on')) {
    if (child.exitCode !== null) throw new Error(`chat app exited with ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`chat app not ready in time:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
