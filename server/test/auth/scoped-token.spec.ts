import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Authorizer } from '../../src/auth/authorizer.js';
import { secretEquals, TokenSigner } from '../../src/auth/scoped-token.js';
import { AppError } from '../../src/errors/app-error.js';

const KEY = 'k'.repeat(32);

describe('scoped tokens – signing and verification', () => {
  const signer = new TokenSigner(undefined, KEY);
  const now = 1_800_000_000_000;

  it('verifies its own tokens and returns the claims', () => {
    const token = signer.sign({ context_id: 'chat:1', rights: ['read'], expires_at_s: now / 1000 + 60 });
    expect(signer.verify(token, now)).toEqual({
      ok: true,
      claims: { context_id: 'chat:1', rights: ['read'], expires_at_s: now / 1000 + 60 },
    });
  });

  it('tokens are valid websocket subprotocol characters', () => {
    const token = signer.sign({ context_id: 'a.b:c-d_e', rights: ['read', 'append'], expires_at_s: 2e9 });
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('rejects expired, tampered, foreign and malformed tokens', () => {
    const token = signer.sign({ context_id: 'c', rights: ['read'], expires_at_s: now / 1000 + 1 });
    expect(signer.verify(token, now + 1_000)).toEqual({ ok: false, reason: 'token expired' });
    const [v, payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ c: 'other', r: ['read', 'append'], e: 2e9 })).toString(
      'base64url',
    );
    expect(signer.verify(`${v}.${forged}.${sig}`, now)).toEqual({ ok: false, reason: 'bad token signature' });
    expect(new TokenSigner(undefined, 'x'.repeat(32)).verify(token, now).ok).toBe(false);
    expect(new TokenSigner('s'.repeat(40), KEY).verify(token, now).ok).toBe(false);
    for (const junk of ['', 'abc', 'v1..', 'v2.a.b', `${v}.${payload}`])
      expect(signer.verify(junk, now).ok).toBe(false);
  });

  it('never accepts a random string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        expect(signer.verify(s, now).ok).toBe(false);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('secret comparison is exact whatever the lengths', () => {
    expect(secretEquals(KEY, KEY)).toBe(true);
    expect(secretEquals(`${KEY}x`, KEY)).toBe(false);
    expect(secretEquals(KEY.slice(1), KEY)).toBe(false);
    expect(secretEquals('', KEY)).toBe(false);
  });
});

describe('authorizer – who may do what', () => {
  const signer = new TokenSigner(undefined, KEY);
  const auth = new Authorizer(KEY, signer, () => 0);
  const token = (context_id: string, rights: ('read' | 'append')[]) =>
    signer.sign({ context_id, rights, expires_at_s: 1_000 });
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return e instanceof AppError ? `${e.status} ${e.code}` : 'other';
    }
  };

  it('is open when no API key is configured', () => {
    expect(
      new Authorizer(undefined, signer).authorize(undefined, { right: 'admin', context_id: 'a' }),
    ).toEqual({
      kind: 'open',
    });
  });

  it('the API key opens everything; nothing or a wrong key is 401', () => {
    expect(code(() => auth.authorize(KEY, { right: 'admin', context_id: 'a' }))).toBe('ok');
    expect(code(() => auth.authorize(undefined, { right: 'read', context_id: 'a' }))).toBe(
      '401 unauthorized',
    );
    expect(code(() => auth.authorize('wrong-key', { right: 'read', context_id: 'a' }))).toBe(
      '401 unauthorized',
    );
  });

  it('a scoped token opens only its context and rights', () => {
    const readA = token('A', ['read']);
    expect(code(() => auth.authorize(readA, { right: 'read', context_id: 'A' }))).toBe('ok');
    expect(code(() => auth.authorize(readA, { right: 'read', context_id: 'B' }))).toBe('403 forbidden');
    expect(code(() => auth.authorize(readA, { right: 'append', context_id: 'A' }))).toBe('403 forbidden');
    expect(code(() => auth.authorize(readA, { right: 'admin', context_id: 'A' }))).toBe('403 forbidden');
    expect(code(() => auth.authorize(token('A', ['append']), { right: 'append', context_id: 'A' }))).toBe(
      'ok',
    );
  });
});
