import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@fastpaca/sdk';
import { createBackend, type UiHandler } from './backend.js';
import { ChatService } from './chat-service.js';
import { type LocalStore, startLocalStore } from './local-store.js';
import type { ChatModel } from './models/chat-model.js';
import { OfflineModel } from './models/offline-model.js';
import { OpenAIModel } from './models/openai-model.js';
import { readSettings, SettingsError } from './settings.js';
import { staticFiles } from './static-files.js';

/**
 * One command for the whole demo: a store (unless FASTPACA_URL points at
 * one), the backend, and the page (Vite with hot reload under `--dev`, the
 * production build otherwise), all on one port.
 */
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dev = process.argv.includes('--dev');

async function main(): Promise<void> {
  const settings = readSettings(process.env, packageRoot);
  let local: LocalStore | undefined;
  let storeUrl = settings.storeUrl;
  let apiKey = settings.apiKey;
  if (!storeUrl) {
    local = await startLocalStore(settings.dataDir);
    storeUrl = local.url;
    apiKey = local.apiKey;
  }
  const client = createClient({ baseUrl: storeUrl, apiKey });
  const model: ChatModel = settings.openai
    ? new OpenAIModel(settings.openai)
    : new OfflineModel(settings.offlineDelayMs);
  const service = new ChatService({
    client,
    model,
    tokenBudget: settings.tokenBudget,
    triggerRatio: settings.triggerRatio,
  });

  let ui: UiHandler | undefined;
  let closeUi = async () => {};
  const server = createBackend({
    service,
    storeUrl,
    tokenBudget: settings.tokenBudget,
    triggerRatio: settings.triggerRatio,
    ui: (req, res, next) => (ui ? ui(req, res, next) : next()),
  });
  if (dev) {
    const { createServer } = await import('vite');
    const vite = await createServer({
      root: packageRoot,
      configFile: join(packageRoot, 'vite.config.ts'),
      appType: 'spa',
      server: { middlewareMode: true, hmr: { server } },
    });
    ui = (req, res, next) => vite.middlewares(req, res, next);
    closeUi = () => vite.close();
  } else {
    const serve = staticFiles(join(packageRoot, 'dist'));
    ui = (req, res) => serve(req, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  console.log(`Chat ready on http://localhost:${port}/`);
  console.log(`  store  ${storeUrl}${local ? ` (local, data in ${settings.dataDir})` : ''}`);
  console.log(`  model  ${model.name}${dev ? '  · dev mode, hot reload' : ''}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await closeUi();
    await local?.process.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // Never leave a store behind, whatever ends this process.
  process.on('exit', () => {
    if (local && local.process.child.exitCode === null) local.process.child.kill('SIGKILL');
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof SettingsError ? `chat: ${error.message}` : error);
  process.exit(error instanceof SettingsError ? 2 : 1);
});
