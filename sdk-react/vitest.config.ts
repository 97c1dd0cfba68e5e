import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // React renders into jsdom, but modules load as in Node: the server helper
    // resolves its binary from `import.meta.url`, and the SDK uses its Node build.
    environment: 'jsdom',
    testTransformMode: { ssr: ['**/*'] },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own server process; two at once keeps small CI machines responsive.
    maxWorkers: 2,
  },
});
