import { hostname } from 'node:os';
import pino from 'pino';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { EstimatorSpecError } from './context/index.js';
import { requestsDrained } from './http/in-flight.js';
import { Metrics } from './metrics/metrics.js';
import { type NodeIdentity, resolveNodeIdentity } from './node/node-identity.js';
import type { PlantedBugs } from './node/planted-bugs.js';
import { ServerNode } from './node/server-node.js';

function exitWith(message: string, code = 2): never {
  process.stderr.write(`fastpaca: ${message}\n`);
  process.exit(code);
}

/**
 * Runs a server process from the environment until SIGTERM or SIGINT: the
 * whole of `main.ts`. `planted` is for the chaos suite's test entry point only.
 */
export async function runServer(options: { planted?: PlantedBugs } = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) exitWith(error.message);
    throw error;
  }
  const clustered = config.cluster_seed.length > 0;
  let identity: NodeIdentity;
  try {
    identity = resolveNodeIdentity(config.data_dir, config.node_name, clustered);
  } catch (error) {
    exitWith((error as Error).message);
  }
  const nodeName = identity.name;
  const logger = pino({ level: config.log_level, base: { node: nodeName } });
  const metrics = new Metrics({ nodeName });

  let node: ServerNode;
  try {
    node = await ServerNode.start({
      identity,
      dataDir: config.data_dir,
      tokenEstimator: config.token_estimator,
      logger,
      metrics,
      raft: {
        tick_ms: config.raft_tick_ms,
        election_ticks: config.raft_election_ticks,
        heartbeat_ticks: config.raft_heartbeat_ticks,
        snapshot_entries: config.raft_snapshot_entries,
      },
      stream: {
        replay_versions: config.stream_replay_versions,
        replay_frames_max: config.stream_replay_frames_max,
        replay_bytes_max: config.stream_replay_bytes_max,
        buffer_bytes_max: config.stream_buffer_bytes_max,
        ping_interval_ms: config.stream_ping_interval_ms,
        pong_timeout_ms: config.stream_pong_timeout_ms,
      },
      proposal_timeout_ms: config.request_timeout_ms,
      ...(options.planted && { planted: options.planted }),
      ...(clustered && {
        cluster: {
          seeds: config.cluster_seed,
          secret: config.cluster_secret!,
          advertise: config.advertise_addr ?? defaultAdvertise(config),
          form_nodes: config.cluster_form_nodes,
          down_after_ms: config.node_down_after_s * 1000,
        },
      }),
      ...(config.archiver_enabled &&
        config.database_url && {
          archive: {
            database_url: config.database_url,
            migrate: config.migrate_on_boot,
            flush_interval_ms: config.archive_flush_interval_ms,
            batch_size: config.archive_batch_size,
            tail_keep: config.tail_keep,
          },
        }),
    });
  } catch (error) {
    if (error instanceof EstimatorSpecError) exitWith(`FASTPACA_TOKEN_ESTIMATOR: ${error.message}`);
    exitWith(`cannot open FASTPACA_RAFT_DATA_DIR ${config.data_dir}: ${(error as Error).message}`, 1);
  }

  const app = await buildApp({
    logger,
    metrics,
    service: node.service,
    cluster: node.cluster,
    hub: node.hub,
    streams: node.streams,
    ...(node.nodeLink && { nodeLink: node.nodeLink }),
    stream: {
      connections_max: config.stream_connections_max,
      ping_interval_ms: config.stream_ping_interval_ms,
    },
    apiKey: config.api_key,
    corsOrigins: config.cors_origins,
    tokenSecret: config.token_secret,
    bodyLimitBytes: config.body_limit_bytes,
    rateLimitPerSecond: config.rate_limit_per_second,
    requestTimeoutMs: config.request_timeout_ms,
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    await node.stop().catch(() => {});
    if (code === 'EADDRINUSE') exitWith(`PORT ${config.port} is already in use on HOST ${config.host}`);
    if (code === 'EACCES')
      exitWith(`PORT ${config.port}: permission denied to listen on HOST ${config.host}`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      exitWith(`HOST ${config.host} is not an address of this machine`);
    exitWith(`cannot listen on HOST ${config.host} PORT ${config.port}: ${(error as Error).message}`, 1);
  }
  logger.info(
    {
      type: 'server_started',
      port: config.port,
      host: config.host,
      data_dir: config.data_dir,
      id: identity.id,
      ...(clustered && { seeds: config.cluster_seed }),
    },
    'fastpaca listening',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ type: 'shutdown', signal }, 'shutting down: draining requests');
    const deadline = setTimeout(() => {
      logger.error({ type: 'shutdown_timeout' }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdown_timeout_ms);
    deadline.unref();
    // close() stops accepting and ends the streams; requests under way finish
    // (they may need the node link); then the node closes the link and flushes
    // storage. The HTTP server counts the node link's upgraded sockets among
    // its connections, so it cannot finish closing before the node stops.
    const closed = app.close();
    await requestsDrained(app, config.request_timeout_ms);
    await node.stop();
    await closed;
    logger.info({ type: 'shutdown_complete' }, 'stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** HOST:PORT when HOST names one address; otherwise this host's name and PORT (SPEC §8). */
function defaultAdvertise(config: Config): string {
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === '';
  const host = wildcard ? hostname() : config.host;
  return host.includes(':') ? `[${host}]:${config.port}` : `${host}:${config.port}`;
}
