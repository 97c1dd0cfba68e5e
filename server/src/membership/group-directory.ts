import type { ConfState, GroupId, NodeId, ReplicaId } from '../raft/index.js';
import type { RaftHost } from '../replication/host/raft-host.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import type { ReportBook } from './reports.js';

/** Leader reports older than this are not trusted for routing. */
const REPORT_MAX_AGE_MS = 10_000;

/**
 * Where each group's leader and voters are, as this node knows: from its own
 * replica of the group, or from the leader's latest report when that carries a
 * later term. A replica that was removed keeps believing in its last leader,
 * so the newer term wins.
 */
export class GroupDirectory {
  constructor(
    private readonly host: () => RaftHost | undefined,
    private readonly reports: ReportBook,
  ) {}

  /** The node leading `group`, as far as this node knows. */
  leaderNodeOf(group: GroupId): NodeId | undefined {
    const own = this.own(group);
    const report = this.reports.lead(group, REPORT_MAX_AGE_MS);
    if (own?.lead != null && (!report || own.term >= report.report.term)) return nodeOfReplica(own.lead);
    return report?.node;
  }

  /** The nodes holding a voter of `group`, as its last known leader reported. */
  voterNodesOf(group: GroupId): NodeId[] {
    return (this.groupOf(group)?.conf.voters ?? []).map(nodeOfReplica);
  }

  /** The configuration and leader of `group`, if this node knows either. */
  groupOf(group: GroupId): { conf: ConfState; leader: ReplicaId | null } | undefined {
    const own = this.own(group);
    const report = this.reports.lead(group, REPORT_MAX_AGE_MS)?.report;
    if (report && (!own || report.term >= own.term)) return { conf: report.conf, leader: report.leader };
    return own && { conf: own.conf, leader: this.host()!.leaderOf(group) };
  }

  private own(group: GroupId) {
    const host = this.host();
    return host?.hosts(group) ? host.status(group) : undefined;
  }
}
