#!/usr/bin/env node
// A local three-node cluster for development: node-N serves on 127.0.0.1:400N
// with its data in ./data/node-N. Ctrl-C stops all three (SIGTERM, graceful).
// Extra environment (FASTPACA_API_KEY, ...) is passed to every node.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'server', 'dist', 'main.js');
const count = Number(process.env.CLUSTER_NODES ?? 3);
if (!Number.isInteger(count) || count < 1 || count > 9) {
  console.error('CLUSTER_NODES must be an integer from 1 to 9');
  process.exit(2);
}
const ports = Array.from({ length: count }, (_, i) => 4001 + i);
const seed = ports.map((p) => `127.0.0.1:${p}`).join(',');
// A fixed secret is fine on loopback; a real cluster needs its own (see docs/cluster.md).
const secret = process.env.FASTPACA_CLUSTER_SECRET ?? 'local development cluster secret';

const children = ports.map((port, i) => {
  const name = `node-${i + 1}`;
  const dataDir = join(root, 'data', name);
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(process.execPath, [main], {
    stdio: 'inherit',
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      FASTPACA_NODE_NAME: name,
      FASTPACA_RAFT_DATA_DIR: dataDir,
      FASTPACA_CLUSTER_SEED: seed,
      FASTPACA_CLUSTER_SECRET: secret,
      FASTPACA_CLUSTER_FORM_NODES: String(Math.min(count, 3)),
    },
  });
  // One node going down (kill -9 it to watch a failover) leaves the others running.
  child.on('exit', (code, signal) => {
    console.error(`${name} (pid ${child.pid}) exited (${signal ?? code})`);
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(0);
  });
  return child;
});
console.error(
  `cluster of ${count}: ${children.map((c, i) => `node-${i + 1} http://127.0.0.1:${ports[i]} (pid ${c.pid})`).join(', ')}`,
);

function stop(code = 0) {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(
    () => process.exit(code),
  );
}
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());
