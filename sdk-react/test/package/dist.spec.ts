// @vitest-environment node
import { readdirSync, readFileSync } from 'node:fs';
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
    for (const format of ['.js', '.cjs']) {
      // An entry and the chunks it shares with the other entry.
      const code = readdirSync(new URL('dist/', root))
        .filter((file) => file.endsWith(format))
        .map((file) => readFileSync(new URL(`dist/${file}`, root), 'utf8'))
        .join('\n');
      expect(code).toMatch(/from "react"|require\('react'\)|require\("react"\)/);
      // React's own code is well over 100 KB; a bundled copy would also split hooks from the app's React.
      expect(code.length).toBeLessThan(60_000);
      expect(code).not.toContain('react.production');
    }
    for (const file of ['dist/index.d.ts', 'dist/index.d.cts']) {
      expect(readFileSync(new URL(file, root), 'utf8')).toContain('useFastpacaChat');
    }
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(pkg.sideEffects).toBe(false);
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['@fastpaca/sdk', 'ai', 'react']);
    expect(pkg.peerDependenciesMeta).toEqual({ ai: { optional: true } });
    expect(pkg.dependencies).toBeUndefined();
  });

  it("the ai entry shares the hooks' code (one store registry, one provider) and keeps `ai` external", async () => {
    for (const [entry, main] of [
      ['dist/ai.js', 'dist/index.js'],
      ['dist/ai.cjs', 'dist/index.cjs'],
    ] as const) {
      const code = readFileSync(new URL(entry, root), 'utf8');
      const chunk = /["'](\.\/chunk-[A-Z0-9]+\.c?js)["']/.exec(code)?.[1];
      expect(chunk, `${entry} imports a shared chunk`).toBeDefined();
      expect(readFileSync(new URL(main, root), 'utf8')).toContain(chunk);
      expect(code).toMatch(/from "ai"|require\('ai'\)|require\("ai"\)/);
      expect(code).not.toContain('DefaultChatTransport = class');
    }
    // Next.js's App Router treats the ESM build's modules as client components.
    for (const entry of ['dist/index.js', 'dist/ai.js']) {
      expect(readFileSync(new URL(entry, root), 'utf8').startsWith("'use client';")).toBe(true);
    }
    // The main entry never loads `ai`: apps without it keep working.
    expect(readFileSync(new URL('dist/index.js', root), 'utf8')).not.toMatch(/from "ai"/);
    const ai = await import(new URL('dist/ai.js', root).href);
    expect(Object.keys(ai).sort()).toEqual(['FastpacaChatTransport', 'mergeChat', 'useFastpacaChatSync']);
  });
});
