import type { NodeId } from '../raft/types.js';

/** A node seen through the seeds or dialling in: who it is and whether it belongs to a cluster. */
export interface SeenNode {
  readonly id: NodeId;
  readonly name: string;
  readonly cluster: string | null;
  /** Where it was reached, or where it says it is reached. */
  readonly address: string;
}

export type FormationStep =
  /** Some node belongs to a cluster: ask it to be let in. */
  | { readonly type: 'join'; readonly via: SeenNode }
  /** This node founds a new cluster with these founders (itself included). */
  | { readonly type: 'found'; readonly founders: readonly SeenNode[] }
  | { readonly type: 'wait'; readonly reason: string };

/**
 * What a node that belongs to no cluster does next. It joins any cluster it
 * sees. Otherwise a new cluster forms once `formNodes` nodes without one see
 * each other, and only the lowest-named of them founds it (the others wait to
 * be told), so a node that starts alone never forms a cluster of one.
 * Founding needs the others' consent in no other way: two nodes can only
 * both found if they see disjoint sets of `formNodes` nodes, which seeds that
 * list every node rule out; were it to happen, the two clusters have
 * different ids and refuse each other's links, so neither loses data.
 */
export function nextFormationStep(
  self: SeenNode,
  seen: readonly SeenNode[],
  formNodes: number,
): FormationStep {
  const clustered = seen.filter((n) => n.cluster !== null && n.id !== self.id);
  if (clustered.length > 0) {
    const ids = new Set(clustered.map((n) => n.cluster));
    if (ids.size > 1) {
      return {
        type: 'wait',
        reason: `the seeds lead to more than one cluster (${[...ids].join(', ')}); fix FASTPACA_CLUSTER_SEED`,
      };
    }
    return { type: 'join', via: clustered.sort(byName)[0]! };
  }
  const unformed = new Map<NodeId, SeenNode>([[self.id, self]]);
  for (const n of seen) if (n.cluster === null) unformed.set(n.id, n);
  const all = [...unformed.values()].sort(byName);
  if (all.length < formNodes) {
    return {
      type: 'wait',
      reason: `waiting for ${formNodes} nodes to form a cluster (seen ${all.length}: ${all.map((n) => n.name).join(', ')})`,
    };
  }
  if (all[0]!.id !== self.id) {
    return { type: 'wait', reason: `waiting for ${all[0]!.name} to found the cluster` };
  }
  return { type: 'found', founders: all };
}

function byName(a: SeenNode, b: SeenNode): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
