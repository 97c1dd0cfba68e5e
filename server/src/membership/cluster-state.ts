import type { GroupId, NodeId, ReplicaId } from '../raft/types.js';
import { replicaId } from '../replication/replica-id.js';
import { plainPackr } from '../util/msgpack.js';
import type { Founder } from './cluster-file.js';

/** Active nodes a drain must leave, so that every group keeps three replicas. */
export const MIN_ACTIVE_AFTER_DRAIN = 3;

/**
 * The meta group's state: the cluster's id, its members, and the counter
 * fresh replica ids are drawn from. Placement itself is not stored: it is a
 * function of the members (placement/), so agreeing on members is agreeing on
 * placement. Applying a command is deterministic, so every node holding the
 * meta group holds the same state.
 */

/**
 * `active`: holds and receives replicas. `draining`: its replicas move away,
 * then it becomes `removed`, which it stays (it cannot rejoin under this id).
 * `replaced`: the node came back with a new disk under the same name (a new
 * id): its replicas are replaced, then the record is forgotten.
 */
export type MemberState = 'active' | 'draining' | 'removed' | 'replaced';

export interface Member {
  readonly id: NodeId;
  readonly name: string;
  /** host:port other nodes reach it on. */
  readonly address: string;
  readonly state: MemberState;
}

export interface ClusterState {
  readonly cluster_id: string;
  /** Who founded the cluster: a founder that missed being told learns it from here. */
  readonly founders: readonly Founder[];
  /** By id. */
  readonly members: ReadonlyMap<NodeId, Member>;
  /** The next number a fresh replica id is made with. */
  readonly next_replica: number;
}

export type ClusterCommand =
  /** A node asks to be a member (or a member tells its current address). */
  | { readonly type: 'join'; readonly id: NodeId; readonly name: string; readonly address: string }
  | { readonly type: 'drain'; readonly id: NodeId }
  /** A drained node holds nothing any more. */
  | { readonly type: 'removed'; readonly id: NodeId }
  /** A replaced node holds nothing any more: its record goes. */
  | { readonly type: 'forget'; readonly id: NodeId }
  /** Draws a replica id for `node` in `group`, never used before in this cluster. */
  | { readonly type: 'alloc_replica'; readonly group: GroupId; readonly node: NodeId };

export type ClusterResult =
  | { readonly ok: true; readonly replica?: ReplicaId }
  | { readonly ok: false; readonly error: string };

export function initialClusterState(clusterId: string, founders: readonly Founder[]): ClusterState {
  const sorted = [...founders].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    cluster_id: clusterId,
    founders: sorted.map((f) => ({ id: f.id, name: f.name, address: f.address })),
    members: new Map(founders.map((f) => [f.id, { ...f, state: 'active' as const }])),
    next_replica: 1,
  };
}

/** Applies a command; returns the new state and the result for the proposer. */
export function applyClusterCommand(
  state: ClusterState,
  command: ClusterCommand,
): { state: ClusterState; result: ClusterResult } {
  const members = new Map(state.members);
  const fail = (error: string) => ({ state, result: { ok: false as const, error } });
  const done = (next: Partial<ClusterState> = {}, replica?: ReplicaId) => ({
    state: { ...state, members, ...next },
    result: replica === undefined ? { ok: true as const } : { ok: true as const, replica },
  });
  switch (command.type) {
    case 'join': {
      const existing = members.get(command.id);
      if (existing?.state === 'removed') {
        return fail(
          `node ${command.name} was drained and removed from this cluster; wipe its data directory to add it as a new node`,
        );
      }
      if (existing) {
        if (existing.address !== command.address)
          members.set(command.id, { ...existing, address: command.address });
        return done();
      }
      // The same name under a new id: that node's disk was replaced, so its old replicas are lost.
      for (const m of state.members.values()) {
        if (m.name === command.name && m.state !== 'removed' && m.state !== 'replaced') {
          members.set(m.id, { ...m, state: 'replaced' });
        }
      }
      members.set(command.id, {
        id: command.id,
        name: command.name,
        address: command.address,
        state: 'active',
      });
      return done();
    }
    case 'drain': {
      const m = members.get(command.id);
      if (!m || m.state === 'removed' || m.state === 'replaced')
        return fail(`node ${command.id} is not a member`);
      const othersActive = [...members.values()].filter((o) => o.state === 'active' && o.id !== m.id).length;
      // Fewer than three active nodes would leave groups that cannot lose a replica: add a node first.
      if (m.state === 'active' && othersActive < MIN_ACTIVE_AFTER_DRAIN)
        return fail(
          `draining ${m.name} would leave ${othersActive} active node${othersActive === 1 ? '' : 's'}; ` +
            `at least ${MIN_ACTIVE_AFTER_DRAIN} must remain, so add a node first`,
        );
      if (m.state !== 'draining') members.set(command.id, { ...m, state: 'draining' });
      return done();
    }
    case 'removed': {
      const m = members.get(command.id);
      if (m?.state !== 'draining') return fail(`node ${command.id} is not draining`);
      members.set(command.id, { ...m, state: 'removed' });
      return done();
    }
    case 'forget': {
      const m = members.get(command.id);
      if (m?.state !== 'replaced') return fail(`node ${command.id} was not replaced`);
      members.delete(command.id);
      return done();
    }
    case 'alloc_replica': {
      const m = members.get(command.node);
      if (m?.state !== 'active') return fail(`node ${command.node} cannot take replicas`);
      return done({ next_replica: state.next_replica + 1 }, replicaId(command.node, state.next_replica));
    }
  }
}

const packr = plainPackr();

interface Encoded {
  v: 1;
  cluster_id: string;
  founders: [NodeId, string, string][];
  members: [NodeId, string, string, MemberState][];
  next_replica: number;
}

/** Deterministic bytes: every founder must build the identical initial snapshot. */
export function encodeClusterState(state: ClusterState): Uint8Array {
  const members = [...state.members.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((m): [NodeId, string, string, MemberState] => [m.id, m.name, m.address, m.state]);
  const encoded: Encoded = {
    v: 1,
    cluster_id: state.cluster_id,
    founders: state.founders.map((f): [NodeId, string, string] => [f.id, f.name, f.address]),
    members,
    next_replica: state.next_replica,
  };
  return packr.pack(encoded);
}

export function decodeClusterState(data: Uint8Array): ClusterState {
  const e = packr.unpack(data) as Encoded;
  if (e?.v !== 1) throw new Error(`unknown cluster state version ${String((e as { v?: unknown })?.v)}`);
  return {
    cluster_id: e.cluster_id,
    founders: e.founders.map(([id, name, address]) => ({ id, name, address })),
    members: new Map(e.members.map(([id, name, address, state]) => [id, { id, name, address, state }])),
    next_replica: e.next_replica,
  };
}

export function encodeClusterCommand(command: ClusterCommand): Uint8Array {
  return packr.pack(command);
}

export function decodeClusterCommand(data: Uint8Array): ClusterCommand {
  return packr.unpack(data) as ClusterCommand;
}
