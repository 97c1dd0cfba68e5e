/**
 * Baseline "Postgres direct": what a team writes instead of a context store.
 * Each append is one INSERT (the context row's counter hands out the dense
 * seq in the same statement, so concurrent appends to a context serialize on
 * that row), committed with `synchronous_commit=on`, i.e. fsynced before the
 * 201. A window read selects the newest `window_messages_max` messages and
 * keeps those whose running token sum fits the window.
 *
 *   PORT=4100 DATABASE_URL=postgres://... BASELINE_SCHEMA=bench_1 tsx src/postgres-baseline-server.ts
 *
 * The schema is dropped and recreated on start, so each start is empty.
 */
import pg from 'pg';
import {
  type BaselineStore,
  fitNewest,
  type MessageIn,
  type StoredMessage,
  serveBaseline,
} from './baseline-http.js';
import { window_messages_max, window_tokens_max } from './workload.js';

const url = process.env.DATABASE_URL;
const schema = process.env.BASELINE_SCHEMA ?? '';
if (!url) throw new Error('DATABASE_URL is required');
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
  throw new Error('BASELINE_SCHEMA must be a lower-case identifier');
/** A pool a little larger than node-postgres's default of 10, so 64 clients keep Postgres's group commit busy. */
const pool_connections_max = Number(process.env.PG_POOL_MAX ?? 16);
/** Rows per INSERT when filling. */
const fill_rows_per_statement = 5_000;

// int8 columns arrive as strings by default; every value here fits a double.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

const pool = new pg.Pool({
  connectionString: url,
  max: pool_connections_max,
  options: '-c synchronous_commit=on',
});

const t = (name: string) => `${schema}.${name}`;

const appendSql = `
  WITH c AS (UPDATE ${t('contexts')} SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq)
  INSERT INTO ${t('messages')} (context_id, seq, role, parts, metadata, token_count)
  SELECT $1, c.last_seq, $2, $3, $4, $5 FROM c
  RETURNING seq`;

const windowSql = `
  SELECT seq, role, parts, metadata, token_count, inserted_at FROM (
    SELECT newest.*, sum(token_count) OVER (ORDER BY seq DESC) AS running
    FROM (
      SELECT * FROM ${t('messages')} WHERE context_id = $1 ORDER BY seq DESC LIMIT $2
    ) newest
  ) w
  WHERE running <= $3
  ORDER BY seq`;

async function init(): Promise<void> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    const fsync = await client.query<{ fsync: string }>('SHOW fsync');
    if (rows[0]?.synchronous_commit !== 'on' || fsync.rows[0]?.fsync !== 'on')
      throw new Error('Postgres must run with fsync=on and synchronous_commit=on for this baseline');
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(
      `CREATE TABLE ${t('contexts')} (id text PRIMARY KEY, last_seq bigint NOT NULL DEFAULT 0)`,
    );
    await client.query(`
      CREATE TABLE ${t('messages')} (
        context_id text NOT NULL,
        seq bigint NOT NULL,
        role text NOT NULL,
        parts jsonb NOT NULL,
        metadata jsonb NOT NULL,
        token_count integer NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (context_id, seq)
      )`);
  } finally {
    client.release();
  }
}

const store: BaselineStore = {
  async put(id) {
    await pool.query(`INSERT INTO ${t('contexts')} (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, [id]);
  },
  async lastSeq(id) {
    const { rows } = await pool.query<{ last_seq: number }>(
      `SELECT last_seq FROM ${t('contexts')} WHERE id = $1`,
      [id],
    );
    return rows[0]?.last_seq;
  },
  async append(id, m: MessageIn) {
    const { rows } = await pool.query<{ seq: number }>({
      name: 'append',
      text: appendSql,
      values: [id, m.role, JSON.stringify(m.parts), JSON.stringify(m.metadata), m.token_count],
    });
    return rows[0]?.seq;
  },
  async window(id) {
    const { rows } = await pool.query<StoredMessage>({
      name: 'window',
      text: windowSql,
      values: [id, window_messages_max, window_tokens_max],
    });
    if (rows.length === 0)
      return (await this.lastSeq(id)) === undefined
        ? undefined
        : { version: 0, messages: [], used_tokens: 0 };
    // The SQL already applied the budget; this only sums it.
    const fitted = fitNewest([...rows].reverse(), window_tokens_max);
    return { version: rows[rows.length - 1]!.seq, ...fitted };
  },
  async fill(ids, generated) {
    for (const id of ids) {
      const last = (await this.lastSeq(id)) ?? 0;
      for (let from = 0; from < generated.length; from += fill_rows_per_statement) {
        const chunk = generated.slice(from, from + fill_rows_per_statement);
        await pool.query(
          `INSERT INTO ${t('messages')} (context_id, seq, role, parts, metadata, token_count)
           SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::jsonb[], $5::jsonb[], $6::int[])`,
          [
            id,
            chunk.map((_, i) => last + from + i + 1),
            chunk.map((m) => m.role),
            chunk.map((m) => JSON.stringify(m.parts)),
            chunk.map((m) => JSON.stringify(m.metadata)),
            chunk.map((m) => m.token_count),
          ],
        );
      }
      await pool.query(`UPDATE ${t('contexts')} SET last_seq = $2 WHERE id = $1`, [
        id,
        last + generated.length,
      ]);
    }
  },
  async close() {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  },
};

await init();
await serveBaseline(store);
