import type { ConfState, GroupId, NodeId, ReplicaId } from '../raft/types.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import { fnv1a } from '../util/fnv1a.js';

/**
 * Where each group's replicas belong, and the next membership change that
 * brings a group closer to it. Pure: the coordinator feeds it the cluster's
 * members and a group leader's report, and carries out what it returns.
 */

/** A cluster member as placement sees it. */
export interface PlacementMember {
  readonly id: NodeId;
  /** Placement ranks by name, so a node that comes back under its name (a new disk) gets its groups back. */
  readonly name: string;
  /** May receive new replicas: active and not down past the grace period. */
  readonly eligible: boolean;
  /** May keep the replicas it has when there is no eligible node to move them to: active, maybe down. */
  readonly keeps: boolean;
}

/** What a group's leader reports (the coordinator acts only on a committed configuration). */
export interface GroupState {
  readonly conf: ConfState;
  readonly conf_index: number;
  readonly commit: number;
  readonly leader: ReplicaId;
  readonly progress: Readonly<Record<ReplicaId, { readonly match: number; readonly active: boolean }>>;
}

export type PlanAction =
  | { readonly type: 'add_learner'; readonly node: NodeId }
  | { readonly type: 'promote'; readonly replica: ReplicaId }
  | { readonly type: 'remove'; readonly replica: ReplicaId }
  | { readonly type: 'transfer_leader'; readonly to: ReplicaId };

export interface PlanOptions {
  /** Voters a group should have (3); with fewer eligible nodes, every one of them. */
  readonly voters: number;
  /** Whether every other eligible node holds a learner (the meta group: every node knows the membership). */
  readonly learnersEverywhere: boolean;
  /** How far behind the commit index a learner may be and still be promoted. */
  readonly promoteLagEntries: number;
}

/** Rendezvous score of a node for a group: the highest scores hold the group. */
export function score(name: string, group: GroupId): number {
  let h = fnv1a(Buffer.from(name, 'utf8')) ^ Math.imul(group + 1, 0x9e3779b1);
  // A 32-bit finaliser (murmur3's) so nearby groups rank nodes independently.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function ranked(members: readonly PlacementMember[], group: GroupId): PlacementMember[] {
  return [...members].sort((a, b) => score(b.name, group) - score(a.name, group) || (a.id < b.id ? -1 : 1));
}

/**
 * The nodes that should hold a group's voters: the `count` best-ranked
 * eligible members; when there are fewer, members that may keep theirs and
 * already hold a voter fill up, so a group never shrinks for want of a node.
 */
export function desiredVoters(
  group: GroupId,
  members: readonly PlacementMember[],
  count: number,
  current: ConfState,
): NodeId[] {
  const chosen = ranked(
    members.filter((m) => m.eligible),
    group,
  )
    .slice(0, count)
    .map((m) => m.id);
  if (chosen.length < count) {
    const holding = new Set(current.voters.map(nodeOfReplica));
    for (const m of ranked(members, group)) {
      if (chosen.length >= count) break;
      if (!m.eligible && m.keeps && holding.has(m.id)) chosen.push(m.id);
    }
  }
  return chosen;
}

/** Voters a group should have: 3, and 5 for the meta group once five nodes are eligible. */
export function voterCount(eligible: number, meta: boolean): number {
  return meta && eligible >= 5 ? 5 : 3;
}

/** Whether `replica` may be promoted (or handed leadership): it answers, and is at most `lag` entries behind. */
export function isCaughtUp(state: GroupState, replica: ReplicaId, lag: number): boolean {
  const p = state.progress[replica];
  return p !== undefined && p.match > 0 && p.active && p.match + lag >= state.commit;
}

/** The next change that brings `state` closer to its placement, or undefined when it is there (or must wait). */
export function planGroup(
  group: GroupId,
  state: GroupState,
  members: readonly PlacementMember[],
  options: PlanOptions,
): PlanAction | undefined {
  const { conf } = state;
  if (state.conf_index > state.commit) return undefined;
  const voterNodes = new Set(desiredVoters(group, members, options.voters, conf));
  const learnerNodes = new Set(
    options.learnersEverywhere
      ? members.filter((m) => m.eligible && !voterNodes.has(m.id)).map((m) => m.id)
      : [],
  );
  const byNode = new Map<NodeId, ReplicaId[]>();
  for (const r of [...conf.voters, ...conf.learners]) {
    const n = nodeOfReplica(r);
    byNode.set(n, [...(byNode.get(n) ?? []), r]);
  }

  // Two replicas on one node (a re-add that raced a removal): the learner, or a non-leader, goes.
  for (const replicas of byNode.values()) {
    if (replicas.length < 2) continue;
    const victim =
      replicas.find((r) => conf.learners.includes(r)) ?? replicas.find((r) => r !== state.leader)!;
    return { type: 'remove', replica: victim };
  }

  const caughtUp = (r: ReplicaId) => isCaughtUp(state, r, options.promoteLagEntries);

  // Learners: gone when unwanted, promoted when caught up and wanted as voters.
  let learnerInProgress = false;
  for (const l of conf.learners) {
    const n = nodeOfReplica(l);
    if (!voterNodes.has(n) && !learnerNodes.has(n)) return { type: 'remove', replica: l };
    if (voterNodes.has(n)) {
      if (caughtUp(l)) return { type: 'promote', replica: l };
      learnerInProgress = true;
    }
  }

  // Missing replicas: one new voter-to-be at a time; learners everywhere may all be added.
  for (const n of voterNodes) {
    if (!byNode.has(n) && !learnerInProgress) return { type: 'add_learner', node: n };
  }
  for (const n of learnerNodes) {
    if (!byNode.has(n)) return { type: 'add_learner', node: n };
  }
  if (learnerInProgress) return undefined;

  // Surplus voters go once every wanted node holds one; the leader hands over first.
  const memberIds = new Set(members.map((m) => m.id));
  const surplus = conf.voters
    .filter((v) => !voterNodes.has(nodeOfReplica(v)))
    .sort((a, b) => rank(a) - rank(b));
  function rank(v: ReplicaId): number {
    const n = nodeOfReplica(v);
    if (!memberIds.has(n)) return 0;
    return members.find((m) => m.id === n)?.eligible ? 2 : 1;
  }
  const victim = surplus[0];
  if (victim === undefined) return undefined;
  if (victim === state.leader) {
    const to = conf.voters.find((v) => v !== victim && voterNodes.has(nodeOfReplica(v)) && caughtUp(v));
    return to === undefined ? undefined : { type: 'transfer_leader', to };
  }
  return { type: 'remove', replica: victim };
}
