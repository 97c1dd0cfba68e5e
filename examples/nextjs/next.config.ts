import { join } from 'node:path';
import type { NextConfig } from 'next';

// The workspace's packages live above this folder (npm workspaces link them), so
// bundling and output tracing start from the repository root.
const root = join(import.meta.dirname, '..', '..');

const config: NextConfig = {
  turbopack: { root },
  outputFileTracingRoot: root,
  // The store client's Node build opens websockets with `ws`; keep it a plain require on the server.
  serverExternalPackages: ['ws'],
};

export default config;
