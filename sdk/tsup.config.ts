import { defineConfig } from 'tsup';

/**
 * Two entries: `index` for Node (websockets through `ws`, which can send an
 * Authorization header) and `browser` for runtimes with a native WebSocket
 * (tokens travel as a subprotocol). `@fastpaca/contract` is ESM-only and not
 * published on its own, so its code and types are bundled into both formats;
 * the runtime dependencies stay external.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', browser: 'src/browser.ts' },
  format: ['esm', 'cjs'],
  tsconfig: 'tsconfig.build.json',
  // Mapping the contract to its built declarations (rather than resolving it
  // through node_modules) makes the declaration bundler inline its types.
  dts: {
    compilerOptions: { baseUrl: '.', paths: { '@fastpaca/contract': ['../contract/dist/index.d.ts'] } },
  },
  noExternal: ['@fastpaca/contract'],
  external: ['ws', 'zod', '@ts-rest/core'],
  target: 'es2022',
  platform: 'neutral',
  sourcemap: true,
  clean: true,
  splitting: false,
});
