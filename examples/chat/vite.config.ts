import { defineConfig } from 'vite';

/**
 * The page only. esbuild compiles the JSX (React's automatic runtime), so no
 * React plugin is needed; the backend serves this in development through
 * Vite's middlewares and the `dist` build in production.
 */
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
