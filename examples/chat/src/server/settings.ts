import { resolve } from 'node:path';

/** Everything the chat backend reads from its environment, validated once at start-up. */
export interface ChatSettings {
  port: number;
  host: string;
  /** An existing store to use; without it a local one is started. */
  storeUrl: string | undefined;
  /** The store's API key (server side only; the browser gets scoped tokens). */
  apiKey: string | undefined;
  /** Data directory of the local store, kept between runs so conversations survive restarts. */
  dataDir: string;
  /** Token budget of each chat's LLM window, and the share of it that flags `needs_compaction`. */
  tokenBudget: number;
  triggerRatio: number;
  /** Pause between the offline model's words, so its replies stream visibly. */
  offlineDelayMs: number;
  openai: { baseUrl: string; apiKey: string; model: string } | undefined;
}

export class SettingsError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}

function ratio(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0 && value <= 1)) throw new SettingsError(`${name} must be a number in (0, 1], got "${raw}"`);
  return value;
}

export function readSettings(env: Env, packageRoot: string): ChatSettings {
  const storeUrl = env.FASTPACA_URL || undefined;
  if (storeUrl !== undefined && !/^https?:\/\/./.test(storeUrl)) {
    throw new SettingsError(`FASTPACA_URL must be an http(s) URL, got "${storeUrl}"`);
  }
  const openaiBase = env.OPENAI_BASE_URL || undefined;
  const openaiKey = env.OPENAI_API_KEY || undefined;
  if ((openaiBase === undefined) !== (openaiKey === undefined)) {
    throw new SettingsError(
      'set both OPENAI_BASE_URL and OPENAI_API_KEY to use a model, or neither for the offline one',
    );
  }
  return {
    port: integer(env, 'PORT', 5173, 0, 65_535),
    host: env.HOST || '127.0.0.1',
    storeUrl,
    apiKey: env.FASTPACA_API_KEY || undefined,
    dataDir: resolve(env.CHAT_DATA_DIR || resolve(packageRoot, 'data')),
    tokenBudget: integer(env, 'CHAT_TOKEN_BUDGET', 2_000, 50, 1_000_000),
    triggerRatio: ratio(env, 'CHAT_TRIGGER_RATIO', 0.7),
    offlineDelayMs: integer(env, 'CHAT_OFFLINE_DELAY_MS', 35, 0, 5_000),
    openai:
      openaiBase && openaiKey
        ? {
            baseUrl: openaiBase.replace(/\/+$/, ''),
            apiKey: openaiKey,
            model: env.OPENAI_MODEL || 'gpt-4o-mini',
          }
        : undefined,
  };
}
