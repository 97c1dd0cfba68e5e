import type { Message } from '@fastpaca/contract';
import pg from 'pg';
import { waitAtMost } from '../util/wait-at-most.js';

/** One message of one context, encoded for the archive. */
export interface ArchiveRow {
  context_id: string;
  message: Message;
  parts_json: string;
  metadata_json: string;
  /** Roughly what the row costs to send, to bound a batch in bytes as well as rows. */
  bytes: number;
}

/**
 * `jsonb` cannot hold U+0000, which JSON (and so a message) can. Such a value
 * is stored as a one-key object holding its JSON text in base64, and decoded
 * on the way out; a metadata object that happens to look like that wrapper is
 * wrapped too, so decoding is never ambiguous.
 */
const wrapper_key = '$fastpaca_json_base64';

function toJsonb(value: unknown): string {
  const json = JSON.stringify(value);
  const looksWrapped =
    typeof value === 'object' && value !== null && !Array.isArray(value) && wrapper_key in value;
  if (!json.includes('\\u0000') && !looksWrapped) return json;
  return JSON.stringify({ [wrapper_key]: Buffer.from(json).toString('base64') });
}

function fromJsonb<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== wrapper_key) return value;
  const encoded = (value as Record<string, unknown>)[wrapper_key];
  return typeof encoded === 'string' ? (JSON.parse(Buffer.from(encoded, 'base64').toString()) as T) : value;
}

export function archiveRow(context_id: string, message: Message): ArchiveRow {
  const parts_json = toJsonb(message.parts);
  const metadata_json = toJsonb(message.metadata);
  const bytes = context_id.length + message.role.length + parts_json.length + metadata_json.length + 64;
  return { context_id, message, parts_json, metadata_json, bytes };
}

/** Where archived messages live; Postgres in production, anything with these three calls in principle. */
export interface ArchiveStore {
  /** Inserts rows idempotently; resolves with how many were new. */
  insert(rows: readonly ArchiveRow[]): Promise<number>;
  /** Messages `fromSeq..toSeq` of a context, oldest first (only those the archive holds). */
  range(contextId: string, fromSeq: number, toSeq: number): Promise<Message[]>;
  close(): Promise<void>;
}

/** Idempotent, so they run on every boot; an attempt that races another node and fails is retried. */
const migrations = [
  `CREATE TABLE IF NOT EXISTS messages (
     context_id  text        NOT NULL,
     seq         bigint      NOT NULL,
     role        text        NOT NULL,
     parts       jsonb       NOT NULL,
     metadata    jsonb       NOT NULL,
     token_count integer     NOT NULL,
     inserted_at timestamptz NOT NULL,
     PRIMARY KEY (context_id, seq)
   )`,
  'CREATE INDEX IF NOT EXISTS messages_context_id_inserted_at_idx ON messages (context_id, inserted_at)',
];

interface MessageRow {
  seq: string;
  role: string;
  parts: Message['parts'];
  metadata: Message['metadata'];
  token_count: number;
  inserted_at: Date;
}

/**
 * The SPEC's `messages` table. A batch is one INSERT of `unnest`ed arrays
 * (one round trip whatever its size) with ON CONFLICT DO NOTHING, so a new
 * leader re-sending what its predecessor already wrote is harmless.
 */
export class PgArchiveStore implements ArchiveStore {
  private migrated = false;
  private migrating: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly migrate: boolean,
    onError: (error: Error) => void,
  ) {
    // An idle client losing its connection (Postgres restarted) must not take the node down.
    pool.on('error', onError);
  }

  static create(
    url: string,
    options: {
      migrate: boolean;
      onError: (error: Error) => void;
      connect_timeout_ms?: number;
      query_timeout_ms?: number;
    },
  ): PgArchiveStore {
    const pool = new pg.Pool({
      connectionString: url,
      max: 4,
      // Fail fast when Postgres is down: archiving retries on its next tick, reads answer 503.
      connectionTimeoutMillis: options.connect_timeout_ms ?? 2_000,
      // A Postgres that stops answering (a lock, a silent network) must not stall flushes and shutdown forever.
      query_timeout: options.query_timeout_ms ?? 30_000,
      statement_timeout: options.query_timeout_ms ?? 30_000,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      application_name: 'fastpaca-archiver',
    });
    return new PgArchiveStore(pool, options.migrate, options.onError);
  }

  /**
   * Runs the migrations once per process when enabled. Called before each use
   * rather than only at boot, so a node that started while Postgres was down
   * migrates as soon as it is back.
   */
  async ready(): Promise<void> {
    if (this.migrated || !this.migrate) return;
    this.migrating ??= this.runMigrations().finally(() => {
      this.migrating = undefined;
    });
    await this.migrating;
  }

  private async runMigrations(): Promise<void> {
    const client = await this.pool.connect();
    try {
      for (const sql of migrations) await client.query(sql);
      this.migrated = true;
    } finally {
      client.release();
    }
  }

  async insert(rows: readonly ArchiveRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.ready();
    const result = await this.pool.query(
      `INSERT INTO messages (context_id, seq, role, parts, metadata, token_count, inserted_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[], $5::jsonb[], $6::integer[], $7::timestamptz[])
       ON CONFLICT (context_id, seq) DO NOTHING`,
      [
        rows.map((r) => r.context_id),
        rows.map((r) => r.message.seq),
        rows.map((r) => r.message.role),
        rows.map((r) => r.parts_json),
        rows.map((r) => r.metadata_json),
        rows.map((r) => r.message.token_count),
        rows.map((r) => r.message.inserted_at),
      ],
    );
    return result.rowCount ?? 0;
  }

  async range(contextId: string, fromSeq: number, toSeq: number): Promise<Message[]> {
    if (toSeq < fromSeq) return [];
    await this.ready();
    const result = await this.pool.query<MessageRow>(
      `SELECT seq, role, parts, metadata, token_count, inserted_at FROM messages
       WHERE context_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
      [contextId, fromSeq, toSeq],
    );
    return result.rows.map((r) => ({
      seq: Number(r.seq),
      role: r.role,
      parts: fromJsonb(r.parts),
      metadata: fromJsonb(r.metadata),
      token_count: r.token_count,
      inserted_at: r.inserted_at.toISOString(),
    }));
  }

  /** Ends the pool; a query stuck in Postgres is not waited for longer than `wait_ms`. */
  async close(wait_ms = 1_000): Promise<void> {
    await waitAtMost(this.pool.end(), wait_ms);
  }
}
