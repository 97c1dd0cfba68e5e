import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { errorFromResponse, parseRetryAfter } from '../../src/errors/error-from-response.js';
import {
  ConflictError,
  FastpacaError,
  ForbiddenError,
  isRetryableStatus,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
} from '../../src/index.js';

const body = (error: string, message: string, details?: unknown) =>
  JSON.stringify({ error, message, details });

describe('errorFromResponse – one typed error per status', () => {
  it('maps each status to its class, code and fields', () => {
    const conflict = errorFromResponse({
      status: 409,
      body: body('conflict', 'version mismatch: expected 3, found 5', { expected: 3, found: 5 }),
      requestId: 'req-1',
    });
    expect(ConflictError.isInstance(conflict)).toBe(true);
    expect(conflict).toMatchObject({
      status: 409,
      code: 'conflict',
      expected: 3,
      found: 5,
      requestId: 'req-1',
    });
    expect(conflict.message).toBe('version mismatch: expected 3, found 5');
    expect(NotFoundError.isInstance(errorFromResponse({ status: 404, body: body('not_found', 'x') }))).toBe(
      true,
    );
    expect(
      UnauthorizedError.isInstance(errorFromResponse({ status: 401, body: body('unauthorized', 'x') })),
    ).toBe(true);
    expect(ForbiddenError.isInstance(errorFromResponse({ status: 403, body: body('forbidden', 'x') }))).toBe(
      true,
    );
    const limited = errorFromResponse({
      status: 429,
      body: body('rate_limited', 'slow down'),
      retryAfter: '3',
    });
    expect(RateLimitedError.isInstance(limited) && limited.retryAfter).toBe(3);
    const unavailable = errorFromResponse({
      status: 503,
      body: body('unavailable', 'no leader'),
      retryAfter: '1',
    });
    expect(UnavailableError.isInstance(unavailable) && unavailable.retryAfter).toBe(1);
    const invalid = errorFromResponse({
      status: 400,
      body: body('invalid_request', 'body.message.role: required'),
    });
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request', isRetryable: false });
    expect(invalid.constructor).toBe(FastpacaError);
  });

  it('falls back to the status when the body is not an error body (a proxy page)', () => {
    const gateway = errorFromResponse({ status: 502, body: '<html>Bad Gateway</html>' });
    expect(UnavailableError.isInstance(gateway)).toBe(true);
    expect(gateway).toMatchObject({ status: 502, code: 'unavailable', isRetryable: true });
    expect(gateway.message).toContain('Bad Gateway');
    expect(errorFromResponse({ status: 500, body: '' })).toMatchObject({
      code: 'internal',
      isRetryable: false,
    });
    expect(errorFromResponse({ status: 418, body: '' })).toMatchObject({ code: 'invalid_request' });
  });

  it('a conflict from a tombstone has no versions', () => {
    const conflict = errorFromResponse({ status: 409, body: body('conflict', 'context x is tombstoned') });
    expect(ConflictError.isInstance(conflict) && conflict.isVersionMismatch).toBe(false);
  });
});

describe('isRetryable – derived from the status', () => {
  it('network failures, 408, 429, 502, 503 and 504 only', () => {
    const retryable = [0, 408, 429, 502, 503, 504];
    for (let status = 0; status < 600; status++)
      expect(isRetryableStatus(status)).toBe(retryable.includes(status));
    expect(new NetworkError('down').isRetryable).toBe(true);
    expect(new ConflictError({ message: 'x' }).isRetryable).toBe(false);
  });
});

describe('isInstance – symbol markers', () => {
  it('subclasses are FastpacaErrors; siblings are not each other', () => {
    const error = new ConflictError({ message: 'x' });
    expect(FastpacaError.isInstance(error)).toBe(true);
    expect(ConflictError.isInstance(error)).toBe(true);
    expect(NotFoundError.isInstance(error)).toBe(false);
    expect(FastpacaError.isInstance(new Error('plain'))).toBe(false);
    expect(FastpacaError.isInstance(null)).toBe(false);
    expect(FastpacaError.isInstance('conflict')).toBe(false);
  });

  it('recognises errors created by another copy of the package (the CommonJS build)', () => {
    const require = createRequire(import.meta.url);
    const cjs = require('../../dist/index.cjs') as typeof import('../../src/index.js');
    const foreign = new cjs.ConflictError({
      message: 'from the other copy',
      details: { expected: 1, found: 2 },
    });
    expect(foreign instanceof ConflictError).toBe(false);
    expect(ConflictError.isInstance(foreign)).toBe(true);
    expect(FastpacaError.isInstance(foreign)).toBe(true);
    expect(cjs.ConflictError.isInstance(new ConflictError({ message: 'and back' }))).toBe(true);
    expect(UnavailableError.isInstance(foreign)).toBe(false);
  });
});

describe('parseRetryAfter – seconds or an HTTP date', () => {
  it('parses both forms and ignores garbage', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
  });
});
