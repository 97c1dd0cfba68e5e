import type { ClusterGroup, ClusterNode, ClusterView } from '@fastpaca/contract';
import { CONTEXT_GROUPS, META_GROUP } from '../placement/groups.js';
import type { ConfState, GroupId, NodeId, ReplicaId } from '../raft/types.js';
import { nodeNameOf, nodeOfReplica } from '../replication/replica-id.js';
import type { Member } from './cluster-state.js';

/** One group as the viewing node knows it: its configuration and leader. */
export interface KnownGroup {
  readonly conf: ConfState;
  readonly leader: ReplicaId | null;
}

export interface ViewInput {
  readonly mode: 'single' | 'cluster';
  readonly clusterId: string | null;
  readonly self: { readonly id: NodeId; readonly name: string; readonly address: string };
  /** Cluster members; a single node passes itself. */
  readonly members: readonly Member[];
  readonly group: (group: GroupId) => KnownGroup | undefined;
  readonly isUp: (node: NodeId) => boolean;
}

/** `GET /v1/cluster`: the cluster as this node sees it, from its meta state and the latest reports. */
export function buildClusterView(input: ViewInput): ClusterView {
  const members = new Map(input.members.map((m) => [m.id, m]));
  const name = (node: NodeId) => members.get(node)?.name ?? nodeNameOf(node);
  const led = new Map<NodeId, number>();
  const held = new Map<NodeId, number>();
  const describe = (group: GroupId): ClusterGroup => {
    const known = input.group(group);
    const leaderNode = known?.leader ? nodeOfReplica(known.leader) : null;
    const replicas = [
      ...(known?.conf.voters ?? []).map((r) => ({ replica: r, role: 'voter' as const })),
      ...(known?.conf.learners ?? []).map((r) => ({ replica: r, role: 'learner' as const })),
    ].map(({ replica, role }) => ({ node: name(nodeOfReplica(replica)), replica, role }));
    return { group, leader: leaderNode === null ? null : name(leaderNode), replicas };
  };
  const groups = CONTEXT_GROUPS.map((g) => {
    const view = describe(g);
    const known = input.group(g);
    if (known?.leader) {
      const n = nodeOfReplica(known.leader);
      led.set(n, (led.get(n) ?? 0) + 1);
    }
    for (const r of [...(known?.conf.voters ?? []), ...(known?.conf.learners ?? [])]) {
      const n = nodeOfReplica(r);
      held.set(n, (held.get(n) ?? 0) + 1);
    }
    return view;
  });
  const meta = input.mode === 'cluster' ? describe(META_GROUP) : null;
  const coordinatorNode = input.mode === 'cluster' ? input.group(META_GROUP)?.leader : undefined;
  const coordinatorId = coordinatorNode ? nodeOfReplica(coordinatorNode) : undefined;
  const nodes: ClusterNode[] = input.members.map((m) => ({
    name: m.name,
    id: m.id,
    address: m.address,
    state: m.state,
    status: input.isUp(m.id) ? 'up' : 'down',
    coordinator: input.mode === 'single' || m.id === coordinatorId,
    groups_led: led.get(m.id) ?? 0,
    groups_replicated: held.get(m.id) ?? 0,
  }));
  return {
    mode: input.mode,
    cluster_id: input.clusterId,
    node: input.self.name,
    coordinator: input.mode === 'single' ? input.self.name : coordinatorId ? name(coordinatorId) : null,
    nodes: nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    groups,
    meta,
  };
}
