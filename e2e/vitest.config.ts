import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file runs a browser and servers: one file at a time keeps small CI machines responsive.
    fileParallelism: false,
  },
});
