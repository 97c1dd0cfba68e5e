import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Browsers and servers are heavy on a 2-core machine; one file at a time.
    fileParallelism: false,
  },
});
