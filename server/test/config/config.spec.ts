import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configVariables, loadConfig } from '../../src/config.js';

describe('config – environment', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      node_name: undefined,
      cluster_seed: [],
      data_dir: './data',
      token_estimator: 'tiktoken:gpt-4o',
      stream_connections_max: 512,
      api_key: undefined,
      cors_origins: [],
      tail_keep: 1000,
      archiver_enabled: false,
      archive_flush_interval_ms: 5000,
      archive_batch_size: 5000,
      migrate_on_boot: false,
      body_limit_bytes: 1_048_576,
      rate_limit_per_second: 0,
      stream_ping_interval_ms: 30_000,
      stream_pong_timeout_ms: 90_000,
      stream_replay_frames_max: 1_000_000,
      stream_replay_bytes_max: 536_870_912,
      // Bounds the log replayed after a crash to ~2,000 × 256 entries.
      raft_snapshot_entries: 2000,
    });
  });

  it('parses every documented variable', () => {
    const c = loadConfig({
      PORT: '4100',
      HOST: '127.0.0.1',
      FASTPACA_NODE_NAME: 'fastpaca-1',
      FASTPACA_CLUSTER_SEED: 'a.internal:4000, b.internal:4000',
      FASTPACA_CLUSTER_SECRET: 'a cluster secret of 32 characters',
      FASTPACA_ADVERTISE_ADDR: '10.0.0.11:4100',
      FASTPACA_NODE_DOWN_AFTER_S: '30',
      FASTPACA_CLUSTER_FORM_NODES: '5',
      FASTPACA_RAFT_DATA_DIR: '/var/lib/fastpaca',
      FASTPACA_TOKEN_ESTIMATOR: 'chars:4',
      FASTPACA_STREAM_MAX_CONNECTIONS: '10',
      FASTPACA_API_KEY: 'secret-key-0123456789',
      FASTPACA_TAIL_KEEP: '50',
      FASTPACA_ARCHIVER_ENABLED: 'true',
      DATABASE_URL: 'postgres://u:p@h/db',
      FASTPACA_ARCHIVE_FLUSH_INTERVAL_MS: '100',
      FASTPACA_ARCHIVER_BATCH_SIZE: '10',
      MIGRATE_ON_BOOT: 'true',
    });
    expect(c).toMatchObject({
      port: 4100,
      host: '127.0.0.1',
      node_name: 'fastpaca-1',
      cluster_seed: ['a.internal:4000', 'b.internal:4000'],
      cluster_secret: 'a cluster secret of 32 characters',
      advertise_addr: '10.0.0.11:4100',
      node_down_after_s: 30,
      cluster_form_nodes: 5,
      data_dir: '/var/lib/fastpaca',
      token_estimator: 'chars:4',
      stream_connections_max: 10,
      api_key: 'secret-key-0123456789',
      tail_keep: 50,
      archiver_enabled: true,
      database_url: 'postgres://u:p@h/db',
      archive_flush_interval_ms: 100,
      archive_batch_size: 10,
      migrate_on_boot: true,
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['FASTPACA_STREAM_MAX_CONNECTIONS', '-1'],
    ['FASTPACA_TAIL_KEEP', '0'],
    ['FASTPACA_ARCHIVER_ENABLED', 'maybe'],
    ['FASTPACA_CLUSTER_SEED', 'no-port-here'],
    ['FASTPACA_API_KEY', 'short'],
    ['DATABASE_URL', 'mysql://x'],
    ['FASTPACA_BODY_LIMIT_BYTES', '12.5'],
    ['FASTPACA_NODE_NAME', 'bad name!'],
    ['FASTPACA_LOG_LEVEL', 'loud'],
    ['FASTPACA_STREAM_REPLAY_BYTES_MAX', '512MiB'],
    ['FASTPACA_CLUSTER_SECRET', 'too-short'],
    ['FASTPACA_ADVERTISE_ADDR', 'fastpaca-1'],
    ['FASTPACA_NODE_DOWN_AFTER_S', '0'],
    ['FASTPACA_CLUSTER_FORM_NODES', 'three'],
    ['FASTPACA_CORS_ORIGINS', 'app.example.com'],
    ['FASTPACA_CORS_ORIGINS', 'https://app.example.com/path'],
  ])('a bad %s (%s) stops start-up naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('FASTPACA_CORS_ORIGINS: a comma-separated list of origins, or * for any', () => {
    expect(
      loadConfig({ FASTPACA_CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).cors_origins,
    ).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(loadConfig({ FASTPACA_CORS_ORIGINS: '*' }).cors_origins).toBe('*');
  });

  it('a seed list needs the cluster secret', () => {
    expect(() => loadConfig({ FASTPACA_CLUSTER_SEED: 'a:4000' })).toThrow(
      'FASTPACA_CLUSTER_SECRET is required',
    );
  });

  it('the archiver needs DATABASE_URL', () => {
    expect(() => loadConfig({ FASTPACA_ARCHIVER_ENABLED: 'true' })).toThrow('DATABASE_URL');
  });

  it.each([
    ['FASTPACA_CLUSTER_SEEDS', 'FASTPACA_CLUSTER_SEED'],
    ['FASTPACA_APIKEY', 'FASTPACA_API_KEY'],
    ['FASTPACA_RAFT_DATADIR', 'FASTPACA_RAFT_DATA_DIR'],
    ['FASTPACA_NODE_DOWN_AFTER', 'FASTPACA_NODE_DOWN_AFTER_S'],
  ])('an unknown %s stops start-up naming the nearest known variable', (typo, meant) => {
    expect(() => loadConfig({ [typo]: 'x' })).toThrow(
      `${typo} is not a fastpaca variable; did you mean ${meant}?`,
    );
  });

  it('lists every unknown variable at once, and ignores empty ones and those of the project’s tools', () => {
    const error = (() => {
      try {
        loadConfig({
          FASTPACA_PORTT: '1',
          FASTPACA_LOGLEVEL: 'debug',
          FASTPACA_UNUSED: '',
          FASTPACA_URL: 'http://localhost:4000',
          FASTPACA_PUBLIC_URL: 'https://store.example.com',
          FASTPACA_TOKEN: 'a-scoped-token-for-the-cli',
          FASTPACA_TEST_DATABASE_URL: 'postgres://x',
          FASTPACA_BENCH_REDIS_URL: 'redis://x',
          FASTPACA_CHROMIUM_PATH: '/usr/bin/chromium',
        });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(error.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}FASTPACA_PORTT is not a fastpaca variable; did you mean FASTPACA_\w+\?$/),
      '  FASTPACA_LOGLEVEL is not a fastpaca variable; did you mean FASTPACA_LOG_LEVEL?',
    ]);
  });

  it('empty values count as unset', () => {
    expect(loadConfig({ PORT: '', FASTPACA_API_KEY: '' })).toMatchObject({ port: 4000, api_key: undefined });
  });
});

describe('config – documentation', () => {
  const root = join(import.meta.dirname, '..', '..', '..');
  it('every variable is in docs/configuration.md and in the sample file', () => {
    const docs = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const sample = readFileSync(join(root, 'server', 'fastpaca.sample.env'), 'utf8');
    for (const name of configVariables) {
      expect(docs, `docs/configuration.md lacks ${name}`).toContain(`\`${name}\``);
      expect(sample, `fastpaca.sample.env lacks ${name}`).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    }
  });
});
