import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../src/openapi.js';

describe('contract – openapi.json', () => {
  it('is the committed document the contract produces (run `npm run openapi` after changing the contract)', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', 'openapi.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
  });
});
