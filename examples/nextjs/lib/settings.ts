/** What the app reads from its environment, checked once, with errors that name the variable. */
export interface Settings {
  /** The store, as this server reaches it. */
  storeUrl: string;
  /** The store, as browsers reach it (for the live stream); defaults to `storeUrl`. */
  publicStoreUrl: string;
  apiKey: string | undefined;
  tokenBudget: number;
  tokenTtlSeconds: number;
  /** Pause between the offline model's words, so replies stream visibly. */
  offlineDelayMs: number;
}

function url(name: string, value: string | undefined, fallback: string): string {
  const chosen = value || fallback;
  if (!/^https?:\/\/./.test(chosen)) throw new Error(`${name} must be an http(s) URL, got "${chosen}"`);
  return chosen.replace(/\/+$/, '');
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number) {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new Error(`${name} must be an integer in ${min}..${max}, got "${value}"`);
  }
  return parsed;
}

let cached: Settings | undefined;

export function settings(): Settings {
  if (cached) return cached;
  const env = process.env;
  const storeUrl = url('FASTPACA_URL', env.FASTPACA_URL, 'http://127.0.0.1:4000');
  cached = {
    storeUrl,
    publicStoreUrl: url('FASTPACA_PUBLIC_URL', env.FASTPACA_PUBLIC_URL, storeUrl),
    apiKey: env.FASTPACA_API_KEY || undefined,
    tokenBudget: integer('CHAT_TOKEN_BUDGET', env.CHAT_TOKEN_BUDGET, 8_000, 100, 1_000_000),
    tokenTtlSeconds: integer('CHAT_TOKEN_TTL_SECONDS', env.CHAT_TOKEN_TTL_SECONDS, 900, 1, 86_400),
    offlineDelayMs: integer('CHAT_OFFLINE_DELAY_MS', env.CHAT_OFFLINE_DELAY_MS, 40, 0, 5_000),
  };
  return cached;
}
