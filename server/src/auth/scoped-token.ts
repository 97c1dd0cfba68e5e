import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRight } from '@fastpaca/contract';

/**
 * Short-lived tokens scoped to one context and a set of rights, for browsers
 * that must never hold the API key. Format: `v1.<payload>.<signature>`, both
 * base64url; the payload is `{c: context id, r: rights, e: expiry (unix s)}`
 * and the signature is HMAC-SHA256 over `v1.<payload>`. The characters are all
 * valid in a websocket subprotocol, so browsers can pass a token that way.
 */
export interface TokenClaims {
  context_id: string;
  rights: TokenRight[];
  expires_at_s: number;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

const PREFIX = 'v1';

export class TokenSigner {
  private readonly key: Buffer;

  /**
   * The key comes from `FASTPACA_TOKEN_SECRET`, else is derived from the API key
   * (so every node of a cluster agrees without extra configuration), else is
   * random for this process (auth is off then and tokens are informational).
   */
  constructor(secret: string | undefined, apiKey: string | undefined) {
    if (secret) this.key = createHash('sha256').update(`fastpaca-token-secret:${secret}`).digest();
    else if (apiKey) this.key = createHmac('sha256', apiKey).update('fastpaca scoped token v1').digest();
    else this.key = randomBytes(32);
  }

  sign(claims: TokenClaims): string {
    const payload = Buffer.from(
      JSON.stringify({ c: claims.context_id, r: claims.rights, e: claims.expires_at_s }),
    ).toString('base64url');
    return `${PREFIX}.${payload}.${this.mac(`${PREFIX}.${payload}`).toString('base64url')}`;
  }

  verify(token: string, nowMs: number): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, reason: 'malformed token' };
    const [, payload, signature] = parts as [string, string, string];
    const expected = this.mac(`${PREFIX}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'bad token signature' };
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed token' };
    }
    const { c, r, e } = (decoded ?? {}) as { c?: unknown; r?: unknown; e?: unknown };
    if (typeof c !== 'string' || !Array.isArray(r) || typeof e !== 'number') {
      return { ok: false, reason: 'malformed token' };
    }
    if (e * 1000 <= nowMs) return { ok: false, reason: 'token expired' };
    const rights = r.filter((x): x is TokenRight => x === 'read' || x === 'append');
    return { ok: true, claims: { context_id: c, rights, expires_at_s: e } };
  }

  private mac(data: string): Buffer {
    return createHmac('sha256', this.key).update(data).digest();
  }
}

/** Constant-time comparison of a presented secret with the configured one, whatever their lengths. */
export function secretEquals(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
