import type { ConfState, GroupId, NodeId, ReplicaId } from '../raft/types.js';
import type { RaftHost } from '../replication/host/raft-host.js';

/**
 * What every node tells every other node a few times a second over the node
 * link: the groups it leads (their configuration, commit index and each
 * member's progress) and, to the coordinator only, the replicas it holds. The
 * leads route requests to leaders on nodes that hold no replica of a group;
 * the coordinator plans from both. A report is a view, not a decision: the
 * coordinator acts on it only through Raft (see coordinator.ts).
 */
export interface LeadReport {
  readonly group: GroupId;
  readonly term: number;
  readonly leader: ReplicaId;
  readonly conf: ConfState;
  readonly conf_index: number;
  readonly commit: number;
  /** [replica, match index, heard from recently] for each other member. */
  readonly progress: readonly (readonly [ReplicaId, number, boolean])[];
}

export interface HostReport {
  readonly group: GroupId;
  readonly replica: ReplicaId;
  readonly conf: ConfState;
  readonly conf_index: number;
  readonly applied: number;
}

export interface NodeReport {
  readonly ch: 'report';
  readonly leads: readonly LeadReport[];
  /** Only in reports to the coordinator. */
  readonly hosts?: readonly HostReport[];
}

export function isNodeReport(m: unknown): m is NodeReport {
  return (m as { ch?: unknown } | null)?.ch === 'report';
}

export function leadReports(host: RaftHost): LeadReport[] {
  const leads: LeadReport[] = [];
  for (const group of host.groups()) {
    if (!host.isLeader(group)) continue;
    const s = host.status(group);
    if (!s) continue;
    leads.push({
      group,
      term: s.term,
      leader: s.id,
      conf: s.conf,
      conf_index: s.conf_index,
      commit: s.commit,
      progress: Object.entries(s.progress ?? {}).map(([r, p]) => [r, p.match, p.recent_active] as const),
    });
  }
  return leads;
}

export function hostReports(host: RaftHost): HostReport[] {
  const hosts: HostReport[] = [];
  for (const group of host.groups()) {
    const s = host.status(group);
    if (s) hosts.push({ group, replica: s.id, conf: s.conf, conf_index: s.conf_index, applied: s.applied });
  }
  return hosts;
}

/** The freshest reports from every node, this one's own included. */
export class ReportBook {
  private readonly leads = new Map<GroupId, { report: LeadReport; node: NodeId; at: number }>();
  private readonly hosts = new Map<NodeId, { reports: readonly HostReport[]; at: number }>();

  constructor(private readonly now: () => number) {}

  /** Takes a node's report; a lead of a group replaces one from an older or equal term. */
  receive(from: NodeId, report: NodeReport): void {
    const at = this.now();
    for (const lead of report.leads) {
      const known = this.leads.get(lead.group);
      if (!known || known.report.term <= lead.term || known.node === from) {
        this.leads.set(lead.group, { report: lead, node: from, at });
      }
    }
    if (report.hosts) this.hosts.set(from, { reports: report.hosts, at });
  }

  /** The latest leader's report of `group`, if one arrived within `maxAgeMs`. */
  lead(group: GroupId, maxAgeMs: number): { report: LeadReport; node: NodeId; at: number } | undefined {
    const known = this.leads.get(group);
    return known && this.now() - known.at <= maxAgeMs ? known : undefined;
  }

  /** The replicas `node` reported holding, if it reported within `maxAgeMs`. */
  hostsOf(node: NodeId, maxAgeMs: number): readonly HostReport[] | undefined {
    const known = this.hosts.get(node);
    return known && this.now() - known.at <= maxAgeMs ? known.reports : undefined;
  }

  forget(node: NodeId): void {
    this.hosts.delete(node);
    for (const [g, known] of this.leads) if (known.node === node) this.leads.delete(g);
  }
}
