import { AppError } from '../errors/app-error.js';
import { ReplicationError, type ReplicationErrorKind } from '../replication/errors.js';
import { MembershipError } from './errors.js';

/**
 * How an error crosses the node link: a request run on another node fails
 * there with the same typed error it would fail with here, so forwarding can
 * act on it (a leader hint, an outcome) and the HTTP layer renders it in its
 * one catalogue.
 */
export type WireError =
  | {
      readonly kind: 'app';
      readonly code: AppError['code'];
      readonly message: string;
      readonly details?: unknown;
      readonly retry_after?: number;
    }
  | {
      readonly kind: 'replication';
      readonly rkind: ReplicationErrorKind;
      readonly group: number | null;
      readonly message: string;
      readonly outcome: ReplicationError['outcome'];
      readonly leader: string | null;
    }
  | { readonly kind: 'membership'; readonly mkind: MembershipError['kind']; readonly message: string }
  | { readonly kind: 'other'; readonly message: string };

export function encodeWireError(error: unknown): WireError {
  if (error instanceof AppError) {
    return {
      kind: 'app',
      code: error.code,
      message: error.message,
      ...(error.details !== undefined && { details: error.details }),
      ...(error.retryAfterSeconds !== undefined && { retry_after: error.retryAfterSeconds }),
    };
  }
  if (error instanceof ReplicationError) {
    return {
      kind: 'replication',
      rkind: error.kind,
      group: error.group ?? null,
      message: error.message,
      outcome: error.outcome,
      leader: error.leader,
    };
  }
  if (error instanceof MembershipError)
    return { kind: 'membership', mkind: error.kind, message: error.message };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}

/** The error a remote failure stands for here; `other` failures become plain Errors. */
export function decodeWireError(payload: unknown, node: string): Error {
  const e = payload as Partial<WireError> | undefined;
  if (e?.kind === 'app' && typeof e.code === 'string') {
    return new AppError(e.code, e.message ?? 'remote error', e.details, e.retry_after);
  }
  if (e?.kind === 'replication' && typeof e.rkind === 'string') {
    return new ReplicationError(
      e.rkind,
      e.group ?? undefined,
      e.message ?? 'remote error',
      e.outcome ?? 'unknown',
      e.leader ?? null,
    );
  }
  if (e?.kind === 'membership' && typeof e.mkind === 'string') {
    return new MembershipError(e.mkind, e.message ?? 'remote error');
  }
  return new Error(`${node}: ${typeof e?.message === 'string' ? e.message : 'request failed'}`);
}
