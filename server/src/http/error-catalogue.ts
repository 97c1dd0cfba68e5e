import { AppError } from '../errors/app-error.js';
import { MembershipError } from '../membership/errors.js';
import { RpcError } from '../node-link/rpc.js';
import { ReplicationError } from '../replication/errors.js';

/**
 * The one place typed errors from the layers below become wire errors: every
 * replication failure is a 503 with `Retry-After` (and `details.outcome`, so a
 * client knows whether a retry can apply a write twice), except overload
 * (429) and an entry over the size limit (413). A request another node did not
 * answer is a 503 too. Anything unknown here is a bug and becomes a 500 in the
 * error handler.
 */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof ReplicationError) {
    switch (error.kind) {
      case 'overloaded':
        return new AppError('rate_limited', error.message, undefined, 1);
      case 'too_large':
        return new AppError('payload_too_large', error.message);
      default:
        return new AppError('unavailable', error.message, { outcome: error.outcome }, 1);
    }
  }
  if (error instanceof MembershipError) {
    switch (error.kind) {
      case 'unknown_node':
        return new AppError('not_found', error.message);
      case 'refused':
        return new AppError('conflict', error.message);
      case 'unavailable':
        return new AppError('unavailable', error.message, undefined, 1);
    }
  }
  if (error instanceof RpcError) {
    return new AppError(
      'unavailable',
      error.message,
      { outcome: error.kind === 'not_sent' ? 'not_applied' : 'unknown' },
      1,
    );
  }
  return undefined;
}
