// @vitest-environment node
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const exported = [
  'ChatRequestError',
  'FastpacaProvider',
  'readTextStream',
  'useAppend',
  'useContextMessages',
  'useContextWindow',
  'useFastpacaChat',
  'useFastpacaClient',
];

describe('package – built output', () => {
  it('the ESM and CommonJS builds export the same hooks', async () => {
    const esm = await import(new URL('dist/index.js', root).href);
    const cjs = createRequire(import.meta.url)(new URL('dist/index.cjs', root).pathname);
    expect(Object.keys(esm).sort()).toEqual(exported);
    expect(Object.keys(cjs).sort()).toEqual(exported);
  });

  it('react and the SDK stay external; declarations exist for both formats', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs']) {
      const code = readFileSync(new URL(file, root), 'utf8');
      expect(code).toMatch(/from "react"|require\("react"\)/);
      // React's own code is well over 100 KB; a bundled copy would also split hooks from the app's React.
      expect(code.length).toBeLessThan(60_000);
      expect(code).not.toContain('react.production');
    }
    for (const file of ['dist/index.d.ts', 'dist/index.d.cts']) {
      expect(readFileSync(new URL(file, root), 'utf8')).toContain('useFastpacaChat');
    }
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(pkg.sideEffects).toBe(false);
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['@fastpaca/sdk', 'react']);
    expect(pkg.dependencies).toBeUndefined();
  });
});
