/**
 * The services a scenario runs against, each in its own process and started
 * fresh for every scenario: fastpaca itself and the three baselines.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, startServerProcess } from '@fastpaca/server/testing';
import type { LoadGenerator } from './load-client.js';
import type { PostgresInstance } from './postgres-instance.js';
import type { RedisInstance } from './redis-instance.js';
import { context_config } from './workload.js';

export interface RunningTarget {
  name: string;
  url: string;
  /** The service process. */
  pid: number;
  /** Root of the database's processes on this machine, if any. */
  db_pid: number | undefined;
  /** Where the service writes CPU profiles on SIGUSR2 (start, then stop), when profiling. */
  profile_dir?: string;
  /** Appends `count` generated messages to each context (set-up, not measured). */
  fill(ids: string[], count: number, seed: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Target {
  name: string;
  /** Short label for ratio columns. */
  short: string;
  /** Whether a separate database does part of the work (its CPU is added when it runs here). */
  database: boolean;
  start(): Promise<RunningTarget>;
}

const ready_timeout_ms = 60_000;
/** 1 ms between CPU samples: at 200 µs the profiler cost the server a third of its append throughput. */
const profile_interval_us = 1_000;
/** The tail of a baseline service's output kept to explain a failure. */
const output_chars_max = 64 * 1024;
/** Connections the load generator uses to fill fastpaca. */
const fill_connections = 64;

/** With `profileDir`, the server records a CPU profile of each measured window into it. */
export function fastpacaTarget(loadgen: LoadGenerator, profileDir?: string): Target {
  const name = 'fastpaca (1 node, durable: fsynced before the ack)';
  const preload = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));
  const profiling: Record<string, string> = profileDir
    ? {
        NODE_OPTIONS: `--import ${preload}`,
        CPU_PROFILE_DIR: profileDir,
        CPU_PROFILE_ON_SIGNAL: '1',
        CPU_PROFILE_INTERVAL_US: String(profile_interval_us),
      }
    : {};
  return {
    name,
    short: 'fastpaca',
    database: false,
    async start() {
      const server = await startServerProcess({
        env: { FASTPACA_LOG_LEVEL: 'warn', ...profiling },
        timeoutMs: ready_timeout_ms,
      });
      return {
        name,
        url: server.url,
        pid: server.child.pid!,
        db_pid: undefined,
        ...(profileDir ? { profile_dir: profileDir } : {}),
        async fill(ids, count, seed) {
          const result = await loadgen.run({
            kind: 'fill',
            base_url: server.url,
            contexts: ids,
            connections: Math.min(fill_connections, ids.length * count),
            warmup_s: 0,
            duration_s: 0,
            amount: ids.length * count,
            seed,
          });
          if (result.failed > 0) throw new Error(`fill failed: ${JSON.stringify(result.statuses)}`);
        },
        async stop() {
          await server.stop();
          server.cleanup();
        },
      };
    },
  };
}

async function spawnService(
  name: string,
  script: string,
  env: Record<string, string>,
  db_pid: number | undefined,
): Promise<RunningTarget> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-output_chars_max);
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))],
    {
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + ready_timeout_ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited before ready:\n${output}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    url,
    pid: child.pid!,
    db_pid,
    async fill(ids, count, seed) {
      const res = await fetch(`${url}/bench/fill`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids, count, seed }),
      });
      if (!res.ok) throw new Error(`${name}: fill failed: ${res.status} ${await res.text()}`);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export function noopTarget(): Target {
  const name = 'no-op fastify route (ceiling)';
  return {
    name,
    short: 'no-op',
    database: false,
    start: () => spawnService(name, './noop-baseline-server.ts', {}, undefined),
  };
}

let schemas = 0;

export function postgresTarget(postgres: PostgresInstance): Target {
  const name = 'Postgres direct (fastify + pg, synchronous_commit=on)';
  return {
    name,
    short: 'Postgres',
    database: true,
    start: () =>
      spawnService(
        name,
        './postgres-baseline-server.ts',
        { DATABASE_URL: postgres.url, BASELINE_SCHEMA: `fastpaca_bench_${process.pid}_${++schemas}` },
        postgres.pid,
      ),
  };
}

let prefixes = 0;

export function redisTarget(redis: RedisInstance): Target {
  const name = 'Redis lists (fastify + node-redis, no fsync)';
  return {
    name,
    short: 'Redis',
    database: true,
    start: () =>
      spawnService(
        name,
        './redis-baseline-server.ts',
        { REDIS_URL: redis.url, BASELINE_PREFIX: `fastpaca-bench:${process.pid}-${++prefixes}:` },
        redis.pid,
      ),
  };
}

/** Creates the contexts (with the shared window configuration) through the target's PUT route. */
export async function createContexts(
  target: Pick<RunningTarget, 'url' | 'name'>,
  ids: string[],
  config: unknown = context_config,
): Promise<void> {
  const body = JSON.stringify(config);
  const batch = 50;
  for (let i = 0; i < ids.length; i += batch) {
    await Promise.all(
      ids.slice(i, i + batch).map(async (id) => {
        const res = await fetch(`${target.url}/v1/contexts/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${target.name}: PUT ${id}: ${res.status}`);
      }),
    );
  }
}

/** Sum of `last_seq` over the contexts: what the target says it stored. */
export function storedMessages(target: Pick<RunningTarget, 'url' | 'name'>, ids: string[]): Promise<number> {
  return sumOverContexts(target, ids, 'last_seq');
}

/** Sum of one of the contexts' counters (`last_seq`, or fastpaca's `archived_seq`). */
export async function sumOverContexts(
  target: Pick<RunningTarget, 'url' | 'name'>,
  ids: string[],
  field: 'last_seq' | 'archived_seq',
): Promise<number> {
  let total = 0;
  const batch = 50;
  for (let i = 0; i < ids.length; i += batch) {
    const seqs = await Promise.all(
      ids.slice(i, i + batch).map(async (id) => {
        const res = await fetch(`${target.url}/v1/contexts/${id}`);
        if (!res.ok) throw new Error(`${target.name}: GET ${id}: ${res.status}`);
        return ((await res.json()) as Record<typeof field, number>)[field];
      }),
    );
    for (const s of seqs) total += s;
  }
  return total;
}

/** The window a target returns for one context: message count, tokens and size on the wire. */
export async function probeWindow(
  target: RunningTarget,
  id: string,
): Promise<{ messages: number; used_tokens: number; bytes: number }> {
  const res = await fetch(`${target.url}/v1/contexts/${id}/context`);
  const text = await res.text();
  if (!res.ok) throw new Error(`${target.name}: window of ${id}: ${res.status} ${text}`);
  const body = JSON.parse(text) as { messages: unknown[]; used_tokens: number };
  return { messages: body.messages.length, used_tokens: body.used_tokens, bytes: Buffer.byteLength(text) };
}
