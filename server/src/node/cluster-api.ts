import type { ClusterView, DrainResponse } from '@fastpaca/contract';

/** What the HTTP layer needs from a node for the cluster routes (single node or cluster alike). */
export interface ClusterApi {
  view(): Promise<ClusterView>;
  /** Starts draining the node named `name`; failures are `MembershipError`s or `AppError`s. */
  drain(name: string): Promise<DrainResponse>;
}
