import { createClient, type FastpacaClient } from '@fastpaca/sdk';
import { type OptionValues, stringOption, UsageError } from './args.js';

/** The server's default port (`PORT`, 4000) on this machine. */
export const defaultUrl = 'http://127.0.0.1:4000';

export interface Connection {
  url: string;
  token: string | undefined;
}

/**
 * Flags win over the environment. `FASTPACA_API_KEY` is a fallback so the tool
 * works as is on a host configured for the server; the SDK sends either kind of
 * credential the same way (`Authorization: Bearer`).
 */
export function resolveConnection(values: OptionValues, env: NodeJS.ProcessEnv): Connection {
  const url = stringOption(values, 'url') ?? nonEmpty(env.FASTPACA_URL) ?? defaultUrl;
  if (!/^https?:\/\/[^/]/i.test(url)) {
    throw new UsageError(`--url must be an http:// or https:// URL, got '${url}'`);
  }
  const token =
    stringOption(values, 'token') ?? nonEmpty(env.FASTPACA_TOKEN) ?? nonEmpty(env.FASTPACA_API_KEY);
  return { url, token: token === '' ? undefined : token };
}

export function connect({ url, token }: Connection): FastpacaClient {
  return createClient(token === undefined ? { baseUrl: url } : { baseUrl: url, token });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
