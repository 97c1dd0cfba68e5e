import { closest } from 'fastest-levenshtein';
import { z } from 'zod';

/**
 * Environment configuration, validated once at start-up. A bad value stops the
 * process with a message that names the variable. Every limit carries its unit
 * last (`_ms`, `_bytes`, ...). `fastpaca.sample.env` documents each variable.
 */

const int = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

const bool = (name: string) =>
  z
    .string()
    .transform((v) => v.toLowerCase())
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), `${name} must be true or false`)
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/, 'must be host:port');

/** A comma-separated list, items trimmed, empty items dropped. */
const commaList = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** `scheme://host[:port]` and nothing else: what a browser sends in `Origin`. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

const EnvSchema = z.object({
  PORT: int('PORT', 0, 65_535).default('4000'),
  HOST: z.string().min(1).default('0.0.0.0'),
  FASTPACA_NODE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'FASTPACA_NODE_NAME may only contain A-Z, a-z, 0-9, ".", "_" and "-"')
    .optional(),
  FASTPACA_CLUSTER_SEED: commaList
    .pipe(z.array(hostPort, { invalid_type_error: 'FASTPACA_CLUSTER_SEED must be host:port,…' }))
    .optional(),
  FASTPACA_CLUSTER_SECRET: z
    .string()
    .min(16, 'FASTPACA_CLUSTER_SECRET must be at least 16 characters')
    .optional(),
  FASTPACA_ADVERTISE_ADDR: hostPort.optional(),
  FASTPACA_NODE_DOWN_AFTER_S: int('FASTPACA_NODE_DOWN_AFTER_S', 1, 604_800).default('60'),
  FASTPACA_CLUSTER_FORM_NODES: int('FASTPACA_CLUSTER_FORM_NODES', 1, 100).default('3'),
  FASTPACA_RAFT_DATA_DIR: z.string().min(1).default('./data'),
  FASTPACA_TOKEN_ESTIMATOR: z.string().min(1).default('tiktoken:gpt-4o'),
  FASTPACA_STREAM_MAX_CONNECTIONS: int('FASTPACA_STREAM_MAX_CONNECTIONS', 0, 1_000_000).default('512'),
  FASTPACA_API_KEY: z.string().min(16, 'FASTPACA_API_KEY must be at least 16 characters').optional(),
  FASTPACA_TOKEN_SECRET: z
    .string()
    .min(32, 'FASTPACA_TOKEN_SECRET must be at least 32 characters')
    .optional(),
  FASTPACA_CORS_ORIGINS: commaList
    .pipe(
      z.array(
        z.string().refine((o) => o === '*' || isOrigin(o), {
          message: 'FASTPACA_CORS_ORIGINS must be * or origins like https://app.example.com, comma-separated',
        }),
      ),
    )
    .optional(),
  FASTPACA_TAIL_KEEP: int('FASTPACA_TAIL_KEEP', 1, 100_000_000).default('1000'),
  FASTPACA_ARCHIVER_ENABLED: bool('FASTPACA_ARCHIVER_ENABLED').default('false'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// or postgresql:// URL')
    .optional(),
  FASTPACA_ARCHIVE_FLUSH_INTERVAL_MS: int('FASTPACA_ARCHIVE_FLUSH_INTERVAL_MS', 10, 3_600_000).default(
    '5000',
  ),
  FASTPACA_ARCHIVER_BATCH_SIZE: int('FASTPACA_ARCHIVER_BATCH_SIZE', 1, 100_000).default('5000'),
  MIGRATE_ON_BOOT: bool('MIGRATE_ON_BOOT').default('false'),
  FASTPACA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  FASTPACA_BODY_LIMIT_BYTES: int('FASTPACA_BODY_LIMIT_BYTES', 1_024, 1_073_741_824).default('1048576'),
  FASTPACA_RATE_LIMIT_PER_SECOND: int('FASTPACA_RATE_LIMIT_PER_SECOND', 0, 10_000_000).default('0'),
  FASTPACA_REQUEST_TIMEOUT_MS: int('FASTPACA_REQUEST_TIMEOUT_MS', 100, 600_000).default('10000'),
  FASTPACA_SHUTDOWN_TIMEOUT_MS: int('FASTPACA_SHUTDOWN_TIMEOUT_MS', 0, 600_000).default('10000'),
  FASTPACA_STREAM_PING_INTERVAL_MS: int('FASTPACA_STREAM_PING_INTERVAL_MS', 10, 3_600_000).default('30000'),
  FASTPACA_STREAM_PONG_TIMEOUT_MS: int('FASTPACA_STREAM_PONG_TIMEOUT_MS', 10, 3_600_000).default('90000'),
  FASTPACA_STREAM_BUFFER_BYTES_MAX: int('FASTPACA_STREAM_BUFFER_BYTES_MAX', 1_024, 1_073_741_824).default(
    '8388608',
  ),
  FASTPACA_STREAM_REPLAY_VERSIONS: int('FASTPACA_STREAM_REPLAY_VERSIONS', 1, 1_000_000).default('1000'),
  FASTPACA_STREAM_REPLAY_FRAMES_MAX: int('FASTPACA_STREAM_REPLAY_FRAMES_MAX', 1, 100_000_000).default(
    '1000000',
  ),
  FASTPACA_STREAM_REPLAY_BYTES_MAX: int('FASTPACA_STREAM_REPLAY_BYTES_MAX', 1_024, 1_099_511_627_776).default(
    '536870912',
  ),
  FASTPACA_RAFT_TICK_MS: int('FASTPACA_RAFT_TICK_MS', 1, 10_000).default('50'),
  FASTPACA_RAFT_ELECTION_TICKS: int('FASTPACA_RAFT_ELECTION_TICKS', 2, 10_000).default('10'),
  FASTPACA_RAFT_HEARTBEAT_TICKS: int('FASTPACA_RAFT_HEARTBEAT_TICKS', 1, 10_000).default('2'),
  FASTPACA_RAFT_SNAPSHOT_ENTRIES: int('FASTPACA_RAFT_SNAPSHOT_ENTRIES', 1, 100_000_000).default('2000'),
});

type Env = z.infer<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  /** Undefined means "use the persisted name, or generate one on first start". */
  node_name: string | undefined;
  cluster_seed: string[];
  cluster_secret: string | undefined;
  /** Undefined means "HOST:PORT when HOST is an address, else this host's name and PORT". */
  advertise_addr: string | undefined;
  node_down_after_s: number;
  cluster_form_nodes: number;
  data_dir: string;
  token_estimator: string;
  stream_connections_max: number;
  api_key: string | undefined;
  token_secret: string | undefined;
  /** Origins browsers may call from; `'*'` for any; empty for none. */
  cors_origins: readonly string[] | '*';
  tail_keep: number;
  archiver_enabled: boolean;
  database_url: string | undefined;
  archive_flush_interval_ms: number;
  archive_batch_size: number;
  migrate_on_boot: boolean;
  log_level: Env['FASTPACA_LOG_LEVEL'];
  body_limit_bytes: number;
  rate_limit_per_second: number;
  request_timeout_ms: number;
  shutdown_timeout_ms: number;
  stream_ping_interval_ms: number;
  stream_pong_timeout_ms: number;
  stream_buffer_bytes_max: number;
  stream_replay_versions: number;
  stream_replay_frames_max: number;
  stream_replay_bytes_max: number;
  raft_tick_ms: number;
  raft_election_ticks: number;
  raft_heartbeat_ticks: number;
  raft_snapshot_entries: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * `FASTPACA_*` variables that the project's clients and tools read (the CLI's
 * URL and token, the example apps' public URL, the test and benchmark
 * harnesses): a shell that runs them beside the server must not stop it.
 */
const NOT_SERVER_VARIABLES =
  /^FASTPACA_(URL|PUBLIC_URL|TOKEN|CHROMIUM_PATH|TEST_[A-Z0-9_]+|BENCH_[A-Z0-9_]+)$/;

/** A `FASTPACA_*` variable the server does not know is a typo until shown otherwise: it names the nearest. */
function unknownVariables(env: NodeJS.ProcessEnv, known: readonly string[]): string[] {
  const ours = known.filter((k) => k.startsWith('FASTPACA_'));
  return Object.entries(env)
    .filter(
      ([k, v]) =>
        k.startsWith('FASTPACA_') &&
        v !== undefined &&
        v !== '' &&
        !known.includes(k) &&
        !NOT_SERVER_VARIABLES.test(k),
    )
    .map(([k]) => `${k} is not a fastpaca variable; did you mean ${closest(k, ours)}?`);
}

/** Parses the environment. Empty strings count as unset, as with `VAR=` in a shell. */
/** Every variable the server reads. */
export const configVariables: readonly string[] = Object.keys(EnvSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = configVariables;
  const typos = unknownVariables(env, known);
  if (typos.length > 0) throw new ConfigError(`invalid configuration:\n  ${typos.join('\n  ')}`);
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => known.includes(k) && v !== undefined && v !== ''),
  );
  const result = EnvSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      return issue.message.startsWith(variable) ? issue.message : `${variable}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = result.data;
  if (e.FASTPACA_RAFT_HEARTBEAT_TICKS >= e.FASTPACA_RAFT_ELECTION_TICKS) {
    throw new ConfigError(
      'invalid configuration:\n  FASTPACA_RAFT_HEARTBEAT_TICKS must be smaller than FASTPACA_RAFT_ELECTION_TICKS',
    );
  }
  if (e.FASTPACA_STREAM_PONG_TIMEOUT_MS <= e.FASTPACA_STREAM_PING_INTERVAL_MS) {
    throw new ConfigError(
      'invalid configuration:\n  FASTPACA_STREAM_PONG_TIMEOUT_MS must be longer than FASTPACA_STREAM_PING_INTERVAL_MS',
    );
  }
  if (e.FASTPACA_CLUSTER_SEED && e.FASTPACA_CLUSTER_SEED.length > 0 && !e.FASTPACA_CLUSTER_SECRET) {
    throw new ConfigError(
      'invalid configuration:\n  FASTPACA_CLUSTER_SECRET is required with FASTPACA_CLUSTER_SEED: every node of a cluster proves it knows it',
    );
  }
  if (e.FASTPACA_ARCHIVER_ENABLED && !e.DATABASE_URL) {
    throw new ConfigError(
      'invalid configuration:\n  DATABASE_URL is required when FASTPACA_ARCHIVER_ENABLED=true',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    node_name: e.FASTPACA_NODE_NAME,
    cluster_seed: e.FASTPACA_CLUSTER_SEED ?? [],
    cluster_secret: e.FASTPACA_CLUSTER_SECRET,
    advertise_addr: e.FASTPACA_ADVERTISE_ADDR,
    node_down_after_s: e.FASTPACA_NODE_DOWN_AFTER_S,
    cluster_form_nodes: e.FASTPACA_CLUSTER_FORM_NODES,
    data_dir: e.FASTPACA_RAFT_DATA_DIR,
    token_estimator: e.FASTPACA_TOKEN_ESTIMATOR,
    stream_connections_max: e.FASTPACA_STREAM_MAX_CONNECTIONS,
    api_key: e.FASTPACA_API_KEY,
    token_secret: e.FASTPACA_TOKEN_SECRET,
    cors_origins: e.FASTPACA_CORS_ORIGINS?.includes('*') ? '*' : (e.FASTPACA_CORS_ORIGINS ?? []),
    tail_keep: e.FASTPACA_TAIL_KEEP,
    archiver_enabled: e.FASTPACA_ARCHIVER_ENABLED,
    database_url: e.DATABASE_URL,
    archive_flush_interval_ms: e.FASTPACA_ARCHIVE_FLUSH_INTERVAL_MS,
    archive_batch_size: e.FASTPACA_ARCHIVER_BATCH_SIZE,
    migrate_on_boot: e.MIGRATE_ON_BOOT,
    log_level: e.FASTPACA_LOG_LEVEL,
    body_limit_bytes: e.FASTPACA_BODY_LIMIT_BYTES,
    rate_limit_per_second: e.FASTPACA_RATE_LIMIT_PER_SECOND,
    request_timeout_ms: e.FASTPACA_REQUEST_TIMEOUT_MS,
    shutdown_timeout_ms: e.FASTPACA_SHUTDOWN_TIMEOUT_MS,
    stream_ping_interval_ms: e.FASTPACA_STREAM_PING_INTERVAL_MS,
    stream_pong_timeout_ms: e.FASTPACA_STREAM_PONG_TIMEOUT_MS,
    stream_buffer_bytes_max: e.FASTPACA_STREAM_BUFFER_BYTES_MAX,
    stream_replay_versions: e.FASTPACA_STREAM_REPLAY_VERSIONS,
    stream_replay_frames_max: e.FASTPACA_STREAM_REPLAY_FRAMES_MAX,
    stream_replay_bytes_max: e.FASTPACA_STREAM_REPLAY_BYTES_MAX,
    raft_tick_ms: e.FASTPACA_RAFT_TICK_MS,
    raft_election_ticks: e.FASTPACA_RAFT_ELECTION_TICKS,
    raft_heartbeat_ticks: e.FASTPACA_RAFT_HEARTBEAT_TICKS,
    raft_snapshot_entries: e.FASTPACA_RAFT_SNAPSHOT_ENTRIES,
  };
}
