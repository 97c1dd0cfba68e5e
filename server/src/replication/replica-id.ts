import type { NodeId, ReplicaId } from '../raft/index.js';

/**
 * Replica ids. A node's founding replicas use the node's own id; a replica
 * added to a group later gets `<node>/<unique>`, an id the group has never
 * seen, so a node that leaves a group and comes back can never be taken for
 * the replica it was (which may have voted, or acknowledged entries, that the
 * new one does not hold). Node names cannot contain `/`.
 */
export function replicaId(node: NodeId, unique: string | number): ReplicaId {
  return `${node}/${unique}`;
}

/** The node a replica lives on. */
export function nodeOfReplica(replica: ReplicaId): NodeId {
  const at = replica.indexOf('/');
  return at < 0 ? replica : replica.slice(0, at);
}

/**
 * A cluster node's id is `<name>~<incarnation>` (a single node's is its name):
 * the incarnation is drawn when its data directory is created, so a node
 * whose disk was wiped comes back as a new node under its old name.
 */
export const INCARNATION_SEPARATOR = '~';

/** The name of a node, from its id. */
export function nodeNameOf(node: NodeId): string {
  const at = node.indexOf(INCARNATION_SEPARATOR);
  return at < 0 ? node : node.slice(0, at);
}
