#!/usr/bin/env node
/**
 * What the SDK and the hooks add to a browser app: each entry below bundled
 * the way an app bundler would (browser conditions, minified, tree-shaken),
 * with React (and `ai` for the `/ai` entry) left to the app, as they are
 * peer dependencies. Prints bytes minified and gzipped, as JSON with --json.
 *
 *   node scripts/bundle-size.js [--root <repository root>] [--json]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const entries = {
  'createClient (@fastpaca/sdk)': "export { createClient } from '@fastpaca/sdk';",
  'hooks (@fastpaca/sdk-react)':
    "export { FastpacaProvider, useContextMessages, useContextWindow, useAppend } from '@fastpaca/sdk-react'; export { createClient } from '@fastpaca/sdk';",
  'useChat fit (@fastpaca/sdk-react/ai)':
    "export { FastpacaChatTransport, useFastpacaChatSync } from '@fastpaca/sdk-react/ai'; export { FastpacaProvider } from '@fastpaca/sdk-react'; export { createClient } from '@fastpaca/sdk';",
};

/** Sizes of every entry whose imports resolve under `root` (an entry a checkout does not have yet is skipped). */
export async function bundleSizes(root) {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-bundle-'));
  const sizes = {};
  try {
    for (const [name, source] of Object.entries(entries)) {
      const file = join(dir, 'entry.js');
      writeFileSync(file, source);
      try {
        const result = await build({
          entryPoints: [file],
          bundle: true,
          minify: true,
          write: false,
          format: 'esm',
          platform: 'browser',
          target: 'es2022',
          nodePaths: [join(root, 'node_modules')],
          external: ['react', 'react-dom', 'react/jsx-runtime', 'ai'],
          logLevel: 'silent',
        });
        const code = result.outputFiles[0].contents;
        sizes[name] = { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
      } catch {
        sizes[name] = null;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const rootIndex = args.indexOf('--root');
  const root = resolve(rootIndex >= 0 ? args[rootIndex + 1] : join(import.meta.dirname, '..'));
  const sizes = await bundleSizes(root);
  if (args.includes('--json')) console.log(JSON.stringify(sizes));
  else {
    for (const [name, size] of Object.entries(sizes)) {
      console.log(
        size
          ? `${name}: ${(size.minified / 1024).toFixed(1)} KiB minified, ${(size.gzipped / 1024).toFixed(1)} KiB gzipped`
          : `${name}: -`,
      );
    }
  }
}
