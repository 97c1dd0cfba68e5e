import { defineConfig } from 'tsup';

/**
 * One entry, ESM and CommonJS, with declarations. React and the SDK are peer
 * dependencies: the app brings its own copy of each, and bundling either would
 * split hooks from the React that renders them.
 */
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  tsconfig: 'tsconfig.build.json',
  dts: true,
  external: ['react', '@fastpaca/sdk'],
  target: 'es2022',
  platform: 'neutral',
  sourcemap: true,
  clean: true,
  splitting: false,
});
