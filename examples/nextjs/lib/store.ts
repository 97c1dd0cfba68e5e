import { createClient, type FastpacaClient } from '@fastpaca/sdk';
import { settings } from './settings';

let client: FastpacaClient | undefined;

/** The server's store client: it holds the API key, which never reaches a browser. */
export function store(): FastpacaClient {
  client ??= createClient({ baseUrl: settings().storeUrl, apiKey: settings().apiKey });
  return client;
}

/** Chat ids come from URLs: the same alphabet the store accepts, bounded. */
export const chatIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** The chat's context, created on first use with the app's token budget. */
export function openChat(id: string) {
  return store().context(id, { budget: settings().tokenBudget });
}
