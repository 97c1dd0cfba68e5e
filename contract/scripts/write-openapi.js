// Writes contract/openapi.json from the built contract. With CI set, it only
// checks: a stale committed document fails the build instead of being fixed
// silently, so the committed file is always the one the code produces.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../dist/openapi.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'openapi.json');
const fresh = `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
let current = '';
try {
  current = readFileSync(target, 'utf8');
} catch {}
if (current === fresh) process.exit(0);
if (process.env.CI) {
  console.error('contract/openapi.json is stale: run `npm run openapi` and commit the result');
  process.exit(1);
}
writeFileSync(target, fresh);
console.log('wrote contract/openapi.json');
