/**
 * Restart-to-ready time: fill a node with M messages across C contexts over
 * HTTP, then measure how long a restart takes until /health/ready answers,
 * after a graceful stop (SIGTERM: groups snapshot on the way down) and after
 * kill -9 (the log since the last snapshot is replayed). The baseline, in the
 * same run, is the restart of an empty node.
 *
 *   npm run -w @fastpaca/bench restart -- [--messages 100000] [--contexts 1000] [--write]
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ServerProcess, startServerProcess } from '../../server/src/testing/server-process.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    contexts: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '64' },
    write: { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);
const CONTEXTS = Number(values.contexts);
const CONCURRENCY = Number(values.concurrency);
const env = { FASTPACA_TOKEN_ESTIMATOR: 'chars:4', FASTPACA_LOG_LEVEL: 'error' };
const body = JSON.stringify({
  message: {
    role: 'user',
    parts: [{ type: 'text', text: 'A realistic three-hundred-byte chat message. '.repeat(7) }],
  },
});

async function timedRestart(
  server: ServerProcess,
  how: 'stop' | 'kill',
): Promise<{ ms: number; server: ServerProcess }> {
  if (how === 'stop') await server.stop();
  else await server.kill();
  const started = performance.now();
  const next = await startServerProcess({
    dataDir: server.dataDir,
    port: server.port,
    env,
    timeoutMs: 600_000,
  });
  return { ms: performance.now() - started, server: next };
}

async function fill(server: ServerProcess): Promise<number> {
  for (let c = 0; c < CONTEXTS; c += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, CONTEXTS - c) }, (_, k) =>
        fetch(`${server.url}/v1/contexts/r${c + k}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token_budget: 4_000_000, policy: { strategy: 'manual' } }),
        }).then((r) => r.arrayBuffer()),
      ),
    );
  }
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= MESSAGES) return;
        const res = await fetch(`${server.url}/v1/contexts/r${i % CONTEXTS}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        if (res.status !== 201) throw new Error(`append failed: ${res.status}`);
      }
    }),
  );
  return MESSAGES / ((performance.now() - started) / 1000);
}

const empty = await startServerProcess({ env });
const emptyStop = await timedRestart(empty, 'stop');
const emptyKill = await timedRestart(emptyStop.server, 'kill');
await emptyKill.server.stop();
emptyKill.server.cleanup();

let server = await startServerProcess({ env });
const rate = await fill(server);
const afterStop = await timedRestart(server, 'stop');
server = afterStop.server;
const afterKill = await timedRestart(server, 'kill');
server = afterKill.server;
const check = (await (await fetch(`${server.url}/v1/contexts/r0`)).json()) as { last_seq: number };
await server.stop();
server.cleanup();
if (check.last_seq !== Math.ceil(MESSAGES / CONTEXTS))
  throw new Error(`lost messages: r0 has ${check.last_seq}`);

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const report = `
### Restart-to-ready run ${new Date().toISOString()}

Command: \`npm run -w @fastpaca/bench restart -- --messages ${MESSAGES} --contexts ${CONTEXTS}\`  
Machine: ${machine}. ${MESSAGES} messages of ~300 bytes across ${CONTEXTS} contexts, loaded at ${rate.toFixed(0)} appends/s.

| Restart | empty node (baseline) | ${MESSAGES} messages | ratio |
| --- | ---: | ---: | ---: |
| after SIGTERM (snapshots taken on the way down) | ${fmt(emptyStop.ms)} | ${fmt(afterStop.ms)} | ${(afterStop.ms / emptyStop.ms).toFixed(1)}× |
| after kill -9 (log since the last snapshot replayed) | ${fmt(emptyKill.ms)} | ${fmt(afterKill.ms)} | ${(afterKill.ms / emptyKill.ms).toFixed(1)}× |
`;
console.log(report);
if (values.write) appendFileSync(join(import.meta.dirname, '..', 'RESULTS.md'), report);
