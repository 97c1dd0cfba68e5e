import type { TokenResponse } from '@fastpaca/contract';

/** A token with its expiry, as `createToken` (and so a token route passing its answer on) returns it. */
export type TokenGrant = Pick<TokenResponse, 'token' | 'expires_at'>;

/**
 * A bearer credential, or a function that returns one. A function that
 * returns a `TokenGrant` is called again only shortly before the grant
 * expires (or after the server refused it); one that returns a plain string
 * is called for every request and connection.
 */
export type CredentialSource = string | (() => string | TokenGrant | Promise<string | TokenGrant>);

/**
 * The credential for a request or connection. `refused` names a credential
 * the server just answered 401 (or closed a stream 4401) for, so a cached
 * grant is not handed out again.
 */
export type CredentialProvider = (refused?: string) => string | undefined | Promise<string | undefined>;

/** Renew this long before expiry, or at half the remaining lifetime for shorter-lived tokens. */
const renewMarginMs = 30_000;

export function credentialProvider(
  source: CredentialSource | undefined,
  now: () => number = Date.now,
): CredentialProvider {
  if (typeof source !== 'function') return () => source;
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchGrant = async (): Promise<string> => {
    const answer = await source();
    if (typeof answer === 'string') return answer;
    const expiresAt = Date.parse(answer.expires_at);
    const requestedAt = now();
    if (Number.isFinite(expiresAt)) {
      cached = {
        token: answer.token,
        renewAt: expiresAt - Math.min(renewMarginMs, (expiresAt - requestedAt) / 2),
      };
    }
    return answer.token;
  };
  return (refused) => {
    if (cached && (cached.token === refused || now() >= cached.renewAt)) cached = undefined;
    if (cached) return cached.token;
    // Requests that find no token at once share one call of the source.
    pending ??= fetchGrant().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
