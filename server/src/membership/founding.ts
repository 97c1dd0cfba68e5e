import { CONTEXT_GROUPS, META_GROUP } from '../placement/groups.js';
import { desiredVoters, type PlacementMember, voterCount } from '../placement/placement.js';
import type { ConfState, GroupId, NodeId } from '../raft/types.js';
import type { Founder } from './cluster-file.js';

/**
 * The initial configuration of every group of a new cluster, a pure function
 * of its founders so that each founder, on its own, founds its replicas with
 * exactly the configuration the others use. Founding replicas are named by
 * their node's id; every later replica gets a fresh id.
 */
export function foundingConfs(founders: readonly Founder[]): Map<GroupId, ConfState> {
  const members: PlacementMember[] = founders.map((f) => ({
    id: f.id,
    name: f.name,
    eligible: true,
    keeps: true,
  }));
  const none: ConfState = { voters: [], learners: [] };
  const confs = new Map<GroupId, ConfState>();
  for (const g of CONTEXT_GROUPS) {
    confs.set(g, { voters: desiredVoters(g, members, 3, none), learners: [] });
  }
  const metaVoters = desiredVoters(META_GROUP, members, voterCount(members.length, true), none);
  confs.set(META_GROUP, {
    voters: metaVoters,
    learners: members.map((m) => m.id).filter((id) => !metaVoters.includes(id)),
  });
  return confs;
}

/** The groups `node` founds a replica of. */
export function foundedBy(confs: ReadonlyMap<GroupId, ConfState>, node: NodeId): GroupId[] {
  const groups: GroupId[] = [];
  for (const [g, conf] of confs)
    if (conf.voters.includes(node) || conf.learners.includes(node)) groups.push(g);
  return groups;
}
