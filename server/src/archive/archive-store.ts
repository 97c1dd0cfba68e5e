import type { Message } from '@fastpaca/contract';
import pg from 'pg';

/** One message of one context, as the archiver hands it over. */
export interface ArchiveRow {
  context_id: string;
  message: Message;
}

/** Where archived messages live; Postgres in production, anything with these three calls in principle. */
export interface ArchiveStore {
  /** Inserts rows idempotently; resolves with how many were new. */
  insert(rows: readonly ArchiveRow[]): Promise<number>;
  /** Messages `fromSeq..toSeq` of a context, oldest first (only those the archive holds). */
  range(contextId: string, fromSeq: number, toSeq: number): Promise<Message[]>;
  close(): Promise<void>;
}

/** Idempotent: safe on every boot and from several nodes at once. */
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
    options: { migrate: boolean; onError: (error: Error) => void; connect_timeout_ms?: number },
  ): PgArchiveStore {
    const pool = new pg.Pool({
      connectionString: url,
      max: 4,
      // Fail fast when Postgres is down: archiving retries on its next tick, reads answer 503.
      connectionTimeoutMillis: options.connect_timeout_ms ?? 2_000,
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
        rows.map((r) => JSON.stringify(r.message.parts)),
        rows.map((r) => JSON.stringify(r.message.metadata)),
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
      parts: r.parts,
      metadata: r.metadata,
      token_count: r.token_count,
      inserted_at: r.inserted_at.toISOString(),
    }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
