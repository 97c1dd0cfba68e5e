import { isMember } from '../raft/conf.js';
import type { ConfState, ReplicaId } from '../raft/types.js';

/** A group's configuration as one replica knows it. */
export interface KnownConf {
  readonly conf: ConfState;
  /** Log index of the entry (or snapshot) that configuration comes from. */
  readonly conf_index: number;
}

/** A configuration a leader reported, with its commit index. */
export interface ReportedConf extends KnownConf {
  readonly commit: number;
}

/**
 * Whether `replica` is out of its group for good, so its node may destroy it:
 * it knows of its own removal, or a committed configuration newer than every
 * one it knows leaves it out. Replica ids are never reused, so nothing can
 * bring it back after that. A configuration that is committed but older than
 * what the replica knows proves nothing: a stale leader's view may predate
 * the replica's addition (the simulator found a coordinator destroying a
 * fresh voter that way).
 */
export function removalProven(replica: ReplicaId, own: KnownConf, evidence: ReportedConf): boolean {
  if (isMember(evidence.conf, replica) || evidence.conf_index > evidence.commit) return false;
  return !isMember(own.conf, replica) || evidence.conf_index > own.conf_index;
}
