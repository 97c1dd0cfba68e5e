/**
 * The replication layer alone: one node, 256 single-voter groups, the real
 * RaftHost over the real write-ahead log (O_DSYNC) in a temporary directory,
 * 64 proposals in flight, 300-byte entries, a state machine that only counts.
 * Prints committed entries per second and CPU (user + system, all threads) per
 * entry, one JSON line per run.
 *
 *   npx tsx bench/src/host.bench.ts [entries] [--root <checkout>]
 *
 * `--root` measures another checkout's build (`server/dist`), so two builds can
 * be measured in alternating runs on the same machine: the layout before the
 * replication layer had its own folder (`consensus/`) is recognised.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { root: { type: 'string' } }, allowPositionals: true });
const root = resolve(values.root ?? fileURLToPath(new URL('../../', import.meta.url)));
const entries = Number(positionals[0] ?? 200_000);
const dist = join(root, 'server', 'dist');
const current = existsSync(join(dist, 'replication', 'host', 'raft-host.js'));
const hostPath = join(dist, current ? 'replication/host/raft-host.js' : 'consensus/raft-host.js');
const walPath = join(dist, current ? 'replication/storage/wal-storage.js' : 'consensus/wal-storage.js');

// biome-ignore lint/suspicious/noExplicitAny: two builds with different typings are measured
const { RaftHost } = (await import(hostPath)) as any;
// biome-ignore lint/suspicious/noExplicitAny: as above
const { WalRaftStorage } = (await import(walPath)) as any;
const { validateRaftConfig } = await import(join(dist, 'raft/index.js'));
const { default: pino } = await import('pino');

const dir = mkdtempSync(join(tmpdir(), 'fastpaca-hostbench-'));
const storage = await WalRaftStorage.open(dir);
const groups = Array.from({ length: 256 }, (_, i) => i);
const machines = groups.map(() => {
  let n = 0;
  return { apply: () => ++n, snapshot: () => new Uint8Array(8), restore: () => {} };
});
const host = new RaftHost({
  nodeId: 'me',
  storage,
  config: validateRaftConfig({ election_ticks: 10, heartbeat_ticks: 2 }),
  tick_ms: 50,
  snapshot_entries: 2000,
  // The option was called `groups` before it was called `bootstrap`.
  [current ? 'bootstrap' : 'groups']: groups,
  initialVoters: () => ['me'],
  machine: (g: number) => machines[g],
  proposal_timeout_ms: 10_000,
  logger: pino({ level: 'silent' }),
});
await host.start();
while (!groups.every((g) => host.isLeader(g))) await new Promise((r) => setTimeout(r, 5));

const payload = new Uint8Array(300).fill(7);
let next = 0;
const started = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < entries) await host.propose(next++ % 256, payload);
  }),
);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    build: current ? 'replication/' : 'consensus/',
    root,
    entries,
    entries_per_s: Math.round(entries / seconds),
    cpu_us_per_entry: Number(((cpu.user + cpu.system) / entries).toFixed(2)),
  }),
);
await host.stop({ snapshot: false });
await storage.close();
rmSync(dir, { recursive: true, force: true });
