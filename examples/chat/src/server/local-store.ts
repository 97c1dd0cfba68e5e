import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';

export interface LocalStore {
  url: string;
  apiKey: string;
  process: ServerProcess;
}

/**
 * Starts a single-node store on a free port, its data under `dataDir`. The
 * store runs with an API key (kept next to the data, so conversations and
 * the page's tokens survive restarts) because the page must only ever hold
 * scoped tokens.
 */
export async function startLocalStore(dataDir: string): Promise<LocalStore> {
  mkdirSync(dataDir, { recursive: true });
  const keyFile = join(dataDir, 'api-key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  const apiKey = readFileSync(keyFile, 'utf8').trim();
  const store = await startServerProcess({
    dataDir: join(dataDir, 'store'),
    env: { FASTPACA_API_KEY: apiKey },
    timeoutMs: 30_000,
  });
  return { url: store.url, apiKey, process: store };
}
