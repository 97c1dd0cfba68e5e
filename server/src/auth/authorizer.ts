import type { TokenRight } from '@fastpaca/contract';
import { AppError } from '../errors/app-error.js';
import { secretEquals, type TokenSigner } from './scoped-token.js';

/** What a request is allowed to do once its credentials are checked. */
export type Principal =
  | { kind: 'open' }
  | { kind: 'api_key' }
  | { kind: 'token'; context_id: string; rights: TokenRight[]; expires_at_s: number };

/** The right a route needs. `admin` routes accept only the API key. */
export type Requirement = { right: TokenRight | 'admin'; context_id: string };

/**
 * Decides access for REST and websocket requests alike: the API key opens
 * everything; a scoped token opens only its own context and rights.
 */
export class Authorizer {
  constructor(
    private readonly apiKey: string | undefined,
    private readonly signer: TokenSigner,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 401 for missing/invalid credentials and 403 for a token that does not cover the request. */
  authorize(credential: string | undefined, need: Requirement): Principal {
    if (!this.apiKey) return { kind: 'open' };
    if (!credential)
      throw new AppError('unauthorized', 'missing bearer token: send Authorization: Bearer <key or token>');
    if (secretEquals(credential, this.apiKey)) return { kind: 'api_key' };
    const check = this.signer.verify(credential, this.now());
    if (!check.ok) throw new AppError('unauthorized', `invalid credentials: ${check.reason}`);
    const { claims } = check;
    if (need.right === 'admin') {
      throw new AppError('forbidden', 'this route requires the API key; scoped tokens only read and append');
    }
    if (claims.context_id !== need.context_id) {
      throw new AppError('forbidden', `token is scoped to another context, not ${need.context_id}`);
    }
    if (!claims.rights.includes(need.right)) {
      throw new AppError('forbidden', `token does not grant "${need.right}" on context ${need.context_id}`);
    }
    return {
      kind: 'token',
      context_id: claims.context_id,
      rights: claims.rights,
      expires_at_s: claims.expires_at_s,
    };
  }
}

/** Extracts the bearer credential from an Authorization header value. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
