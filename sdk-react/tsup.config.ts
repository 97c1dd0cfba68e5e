import { defineConfig } from 'tsup';

/**
 * Two entries, ESM and CommonJS, with declarations: the hooks, and `ai` for
 * apps on ai-sdk's `useChat` (so apps without `ai` never load it). React, the
 * SDK and `ai` are peer dependencies: the app brings its own copy of each, and
 * bundling one would split hooks from the React that renders them.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', ai: 'src/ai.ts' },
  format: ['esm', 'cjs'],
  tsconfig: 'tsconfig.build.json',
  dts: true,
  external: ['react', '@fastpaca/sdk', 'ai'],
  target: 'es2022',
  platform: 'neutral',
  sourcemap: true,
  clean: true,
  // Shared chunks, so both entries use one store registry and one provider context.
  splitting: true,
  // Hooks and the provider run in the browser: Next.js's App Router then treats them as client components.
  // (ESM only: CommonJS output starts with "use strict" and helpers, where the banner is no directive.)
  banner: ({ format }) => (format === 'esm' ? { js: "'use client';" } : {}),
});
