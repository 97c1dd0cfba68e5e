import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fastpaca/server/testing';
import { startAppProcess } from './app-process.js';

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
  const app = await startAppProcess('chat app', ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: chatExampleDir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', CHAT_DATA_DIR: dataDir, ...env },
    ready: /Chat ready on/,
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output: app.output,
    async stop() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
