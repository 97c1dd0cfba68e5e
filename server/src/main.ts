#!/usr/bin/env node
import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`fastpaca: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.log_level, base: { node: config.node_name } });
  const app = await buildApp({ logger });
  await app.listen({ port: config.port, host: config.host });
  logger.info({ type: 'server_started', port: config.port, host: config.host }, 'fastpaca listening');

  const stop = async (signal: string) => {
    logger.info({ type: 'shutdown', signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

void main();
