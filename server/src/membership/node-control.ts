import type { ConfChange, GroupId, NodeId, ReplicaId } from '../raft/types.js';
import { ReplicationError } from '../replication/errors.js';
import type { RaftHost } from '../replication/host/raft-host.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import { type ReportedConf, removalProven } from './removal-evidence.js';

/**
 * What the coordinator asks of a node. Every request is checked by the node
 * that runs it against its own state: a replica is created only under this
 * node's id, destroyed only on evidence of its removal newer than anything it
 * knows, and a membership change is proposed only by the group's leader
 * (Raft then commits it, or not). A stale coordinator's request is therefore
 * refused or harmless.
 */
export interface NodeControl {
  createReplica(group: GroupId, replica: ReplicaId): Promise<void>;
  destroyReplica(
    group: GroupId,
    replica: ReplicaId,
    evidence: ReportedConf & { term: number },
  ): Promise<void>;
  changeConf(group: GroupId, change: ConfChange): Promise<void>;
  transferLeader(group: GroupId, to: ReplicaId): Promise<void>;
}

export const CONTROL_METHODS = {
  createReplica: 'replica.create',
  destroyReplica: 'replica.destroy',
  changeConf: 'group.change_conf',
  transferLeader: 'group.transfer_leader',
} as const;

export class ControlRefused extends Error {
  override name = 'ControlRefused';
}

/** This node's side: carries out requests on its own replicas. */
export class LocalControl implements NodeControl {
  /** Groups whose replica is being destroyed: no new replica until that is durable. */
  private readonly removing = new Set<GroupId>();

  constructor(
    private readonly self: NodeId,
    private readonly host: RaftHost,
    /** Called after a replica of `group` left this node (its state machine goes). */
    private readonly onDestroyed: (group: GroupId) => void,
  ) {}

  async createReplica(group: GroupId, replica: ReplicaId): Promise<void> {
    if (nodeOfReplica(replica) !== this.self) {
      throw new ControlRefused(`replica ${replica} does not belong on node ${this.self}`);
    }
    if (this.removing.has(group)) {
      throw new ControlRefused(`group ${group}: the previous replica's removal is not durable yet; retry`);
    }
    const held = this.host.replicaOf(group);
    if (held === replica) return;
    if (held !== undefined)
      throw new ControlRefused(`node ${this.self} already holds ${held} of group ${group}`);
    this.host.addReplica(group, replica);
  }

  async destroyReplica(
    group: GroupId,
    replica: ReplicaId,
    evidence: ReportedConf & { term: number },
  ): Promise<void> {
    if (this.host.replicaOf(group) !== replica) return;
    const own = this.host.status(group);
    if (!own || !removalProven(replica, own, evidence)) {
      throw new ControlRefused(
        `group ${group}: no proof that ${replica} was removed (evidence at ${evidence.conf_index}, ` +
          `replica knows ${own?.conf_index ?? 'nothing'})`,
      );
    }
    // The state machine goes with the replica, at once: a new replica of the group gets a new one.
    this.removing.add(group);
    const removal = this.host.removeReplica(group, Math.max(evidence.term, own.term));
    this.onDestroyed(group);
    try {
      await removal;
    } finally {
      this.removing.delete(group);
    }
  }

  async changeConf(group: GroupId, change: ConfChange): Promise<void> {
    await this.host.proposeConfChange(group, change);
  }

  async transferLeader(group: GroupId, to: ReplicaId): Promise<void> {
    if (!this.host.isLeader(group)) {
      throw new ReplicationError(
        'not_leader',
        group,
        `group ${group} is not led here`,
        'not_applied',
        this.host.leaderOf(group),
      );
    }
    this.host.transferLeadership(group, to);
  }

  /** The RPC handlers that run requests from the coordinator. */
  handlers(): Record<string, (from: string, body: unknown) => Promise<unknown>> {
    type Body = {
      group: GroupId;
      replica: ReplicaId;
      evidence: ReportedConf & { term: number };
      change: ConfChange;
      to: ReplicaId;
    };
    return {
      [CONTROL_METHODS.createReplica]: async (_from, b) =>
        this.createReplica((b as Body).group, (b as Body).replica),
      [CONTROL_METHODS.destroyReplica]: async (_from, b) =>
        this.destroyReplica((b as Body).group, (b as Body).replica, (b as Body).evidence),
      [CONTROL_METHODS.changeConf]: async (_from, b) =>
        this.changeConf((b as Body).group, (b as Body).change),
      [CONTROL_METHODS.transferLeader]: async (_from, b) =>
        this.transferLeader((b as Body).group, (b as Body).to),
    };
  }
}

/** Another node's side, over the node link. */
export class RemoteControl implements NodeControl {
  constructor(
    private readonly node: NodeId,
    private readonly call: (
      node: NodeId,
      method: string,
      body: unknown,
      timeoutMs: number,
    ) => Promise<unknown>,
    private readonly timeoutMs: number,
  ) {}

  async createReplica(group: GroupId, replica: ReplicaId): Promise<void> {
    await this.call(this.node, CONTROL_METHODS.createReplica, { group, replica }, this.timeoutMs);
  }

  async destroyReplica(group: GroupId, replica: ReplicaId, evidence: ReportedConf & { term: number }) {
    await this.call(this.node, CONTROL_METHODS.destroyReplica, { group, replica, evidence }, this.timeoutMs);
  }

  async changeConf(group: GroupId, change: ConfChange): Promise<void> {
    await this.call(this.node, CONTROL_METHODS.changeConf, { group, change }, this.timeoutMs);
  }

  async transferLeader(group: GroupId, to: ReplicaId): Promise<void> {
    await this.call(this.node, CONTROL_METHODS.transferLeader, { group, to }, this.timeoutMs);
  }
}
