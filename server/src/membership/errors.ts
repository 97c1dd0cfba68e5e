/**
 * Why a membership request failed: `unknown_node` (no such member),
 * `refused` (the request makes no sense in this state), `unavailable` (the
 * cluster cannot decide now: no coordinator, no quorum; retry).
 */
export class MembershipError extends Error {
  override name = 'MembershipError';
  constructor(
    readonly kind: 'unknown_node' | 'refused' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}
