import type { Logger } from 'pino';
import { META_GROUP } from '../placement/groups.js';
import type { NodeId } from '../raft/index.js';
import type { RaftHost } from '../replication/host/raft-host.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import type { Founder } from './cluster-file.js';
import type { ClusterMachine } from './cluster-machine.js';
import {
  type ClusterCommand,
  type ClusterResult,
  encodeClusterCommand,
  type Member,
} from './cluster-state.js';
import { MembershipError } from './errors.js';

export interface JoinRequest {
  id: NodeId;
  name: string;
  address: string;
}

export interface JoinReply {
  cluster_id: string;
  /** Only to a founder, which founds its share of the groups. */
  founders?: readonly Founder[];
}

export interface MetaRequestsOptions {
  readonly host: () => RaftHost | undefined;
  readonly machine: ClusterMachine;
  readonly clusterId: () => string | null;
  readonly call: <T>(node: NodeId, method: string, body: unknown, timeoutMs: number) => Promise<T>;
  readonly logger: Logger;
}

/**
 * Requests that change the cluster's membership (a node joins, a node is
 * drained). The meta group's leader serves them by proposing to that group;
 * any other node passes them on to it.
 */
export class MetaRequests {
  constructor(private readonly o: MetaRequestsOptions) {}

  async join(body: JoinRequest): Promise<JoinReply> {
    const host = this.o.host();
    if (!this.o.clusterId() || !host) throw new Error('this node is not in a cluster');
    if (!host.isLeader(META_GROUP)) {
      const lead = host.leaderOf(META_GROUP);
      if (lead === null) throw new Error('the cluster has no coordinator now; retry');
      return this.o.call<JoinReply>(nodeOfReplica(lead), 'cluster.join', body, 5_000);
    }
    const result = await this.propose(host, {
      type: 'join',
      id: body.id,
      name: body.name,
      address: body.address,
    });
    if (!result.ok) throw new Error(result.error);
    const state = this.o.machine.state!;
    this.o.logger.info(
      { type: 'node_joined', peer: body.name, id: body.id, address: body.address },
      `node ${body.name} joined`,
    );
    const founder = state.founders.some((f) => f.id === body.id);
    return { cluster_id: state.cluster_id, ...(founder && { founders: state.founders }) };
  }

  /** Starts draining the node named `name`. */
  async drain(name: string): Promise<Member> {
    const host = this.o.host();
    const state = this.o.machine.state;
    if (!host || !state)
      throw new MembershipError('unavailable', 'this node does not know the cluster yet; retry');
    if (!host.isLeader(META_GROUP)) {
      const lead = host.leaderOf(META_GROUP);
      if (lead === null)
        throw new MembershipError('unavailable', 'the cluster has no coordinator now; retry');
      return this.o.call<Member>(nodeOfReplica(lead), 'cluster.drain', { name }, 5_000);
    }
    const member = [...state.members.values()].find(
      (m) => m.name === name && (m.state === 'active' || m.state === 'draining'),
    );
    if (!member) throw new MembershipError('unknown_node', `no active node is named ${name}`);
    const result = await this.propose(host, { type: 'drain', id: member.id });
    if (!result.ok) throw new MembershipError('refused', result.error);
    this.o.logger.info({ type: 'node_draining', peer: name }, `draining node ${name}`);
    return this.o.machine.state!.members.get(member.id)!;
  }

  private async propose(host: RaftHost, command: ClusterCommand): Promise<ClusterResult> {
    return (await host.propose(META_GROUP, encodeClusterCommand(command))) as ClusterResult;
  }
}
