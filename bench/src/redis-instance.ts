import { existsSync } from 'node:fs';
import { createClient } from 'redis';

export interface RedisInstance {
  url: string;
  /** redis-server's pid when it runs on this machine (its CPU is the database's), else undefined. */
  pid: number | undefined;
  description: string;
}

const connect_timeout_ms = 2_000;

/**
 * The Redis the "Redis lists" baseline uses (`FASTPACA_BENCH_REDIS_URL`,
 * default 127.0.0.1:6379), or the reason it cannot be used.
 */
export async function probeRedis(): Promise<RedisInstance | { skipped: string }> {
  const url = process.env.FASTPACA_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = createClient({
    url,
    socket: { connectTimeout: connect_timeout_ms, reconnectStrategy: false },
  });
  client.on('error', () => {
    // Reported through the failed connect below.
  });
  try {
    await client.connect();
  } catch (error) {
    return { skipped: `no Redis at ${url} (${(error as Error).message})` };
  }
  try {
    const info = await client.info('server');
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const pid = Number(field('process_id'));
    const config = async (name: string) => {
      try {
        return (await client.configGet(name))[name] ?? '?';
      } catch {
        return '?';
      }
    };
    const save = await config('save');
    return {
      url,
      pid: pid > 0 && existsSync(`/proc/${pid}/stat`) ? pid : undefined,
      description:
        `Redis ${field('redis_version') ?? '?'} (appendonly=${await config('appendonly')}, ` +
        `appendfsync=${await config('appendfsync')}, save="${save}")`,
    };
  } finally {
    await client.quit();
  }
}
