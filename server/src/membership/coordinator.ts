import type { Logger } from 'pino';
import { CONTEXT_GROUPS, META_GROUP } from '../placement/groups.js';
import {
  type GroupState,
  isCaughtUp,
  type PlacementMember,
  type PlanAction,
  planGroup,
  voterCount,
} from '../placement/placement.js';
import type { ConfChange, GroupId, NodeId, ReplicaId } from '../raft/types.js';
import type { RaftHost } from '../replication/host/raft-host.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import { every, type Runtime } from '../util/runtime.js';
import {
  type ClusterCommand,
  type ClusterResult,
  type ClusterState,
  encodeClusterCommand,
} from './cluster-state.js';
import type { NodeControl } from './node-control.js';
import { removalProven } from './removal-evidence.js';
import type { LeadReport, ReportBook } from './reports.js';

/** A group as the coordinator plans it: its leader's state, which node reported it, and when. */
interface GroupView {
  readonly state: GroupState;
  readonly node: NodeId;
  readonly term: number;
  readonly at: number;
}

export interface CoordinatorOptions {
  self: NodeId;
  host: RaftHost;
  /** The meta group's state on this node. */
  cluster: () => ClusterState | undefined;
  reports: ReportBook;
  /** How long `node` has been silent, in ms (0 when it is heard from now). */
  silentFor: (node: NodeId) => number;
  control: (node: NodeId) => NodeControl;
  runtime: Runtime;
  logger: Logger;
  /** A node silent this long loses its replicas to other nodes (FASTPACA_NODE_DOWN_AFTER_S). */
  down_after_ms: number;
  interval_ms?: number;
  /** Groups changed at once. */
  parallel_max?: number;
  /** A learner that makes no progress for this long is taken out (and added afresh). */
  learner_stall_ms?: number;
  promote_lag_entries: number;
  onAction?: (type: PlanAction['type'] | 'destroy' | 'balance') => void;
  /** Tells a removed node it was removed (it cannot learn it from the meta group it left). */
  tellRemoved: (node: NodeId) => Promise<void>;
}

/** Reports older than this are not planned from. */
const REPORT_MAX_AGE_MS = 3_000;
const TELL_REMOVED_RETRY_MS = 10_000;

/**
 * The coordinator: runs on the node that leads the meta group, and only while
 * it does. Each pass it confirms that leadership with a quorum (ReadIndex on
 * the meta group), then moves every group one membership change closer to its
 * placement, destroys replicas whose removal is proven, and evens out
 * leaders. Its decisions are Raft entries: members and fresh replica ids in
 * the meta group, membership changes in each group, each refused by Raft if
 * its proposer no longer leads. Two coordinators therefore never act at once
 * on conflicting decisions: a deposed one fails its read barrier, its meta
 * proposals and its groups' changes.
 */
export class Coordinator {
  private cancel: (() => void) | undefined;
  private running = false;
  private leading = false;
  private readonly inFlight = new Set<GroupId>();
  /** Learners' progress (`group|replica`), to take out one that stalls (its replica may be gone). */
  private readonly learners = new Map<string, { match: number; since: number }>();
  /** When each group's last change finished: it is planned again from a report taken after that. */
  private readonly settled = new Map<GroupId, number>();
  /** Replicas (`group|replica`) this coordinator created recently: not orphans while their addition is in flight. */
  private readonly created = new Map<string, number>();
  /** Replicas (`group|replica`) asked to go, not asked again for a while. */
  private readonly destroying = new Map<string, number>();
  /** Removed nodes: told so (`true`), or when telling them may be tried again. */
  private readonly told = new Map<NodeId, true | number>();

  constructor(private readonly o: CoordinatorOptions) {}

  start(): void {
    this.cancel = every(this.o.runtime, this.o.interval_ms ?? 250, () => void this.pass());
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Whether this node is the coordinator now (it leads the meta group). */
  isCoordinator(): boolean {
    return this.o.host.isLeader(META_GROUP);
  }

  private async pass(): Promise<void> {
    const leading = this.isCoordinator();
    if (leading !== this.leading) {
      this.leading = leading;
      this.o.logger.info(
        { type: leading ? 'coordinator_started' : 'coordinator_stopped' },
        leading ? 'this node is the coordinator' : 'this node is no longer the coordinator',
      );
      this.learners.clear();
    }
    if (!leading || this.running) return;
    const cluster = this.o.cluster();
    if (!cluster) return;
    this.running = true;
    try {
      await this.o.host.readBarrier(META_GROUP);
      const members = this.members(cluster);
      const states = this.groupStates();
      await this.lifecycle(cluster, states);
      this.plan(members, states);
      this.collectOrphans(cluster, states);
      this.balanceLeaders(members, states);
    } catch (error) {
      this.o.logger.debug({ type: 'coordinator_pass_failed', err: error }, 'coordinator pass failed');
    } finally {
      this.running = false;
    }
  }

  private members(cluster: ClusterState): PlacementMember[] {
    const out: PlacementMember[] = [];
    for (const m of cluster.members.values()) {
      const silent = m.id === this.o.self ? 0 : this.o.silentFor(m.id);
      const active = m.state === 'active';
      out.push({
        id: m.id,
        name: m.name,
        eligible: active && silent < this.o.down_after_ms,
        keeps: active,
      });
    }
    return out;
  }

  /** Every group's state, from this node's own replica when it leads, else from the leader's report. */
  private groupStates(): Map<GroupId, GroupView> {
    const states = new Map<GroupId, GroupView>();
    for (const group of [META_GROUP, ...CONTEXT_GROUPS]) {
      const report = this.leadOf(group);
      if (!report) continue;
      states.set(group, {
        node: report.node,
        term: report.report.term,
        at: report.at,
        state: {
          conf: report.report.conf,
          conf_index: report.report.conf_index,
          commit: report.report.commit,
          leader: report.report.leader,
          progress: Object.fromEntries(
            report.report.progress.map(([r, match, active]) => [r, { match, active }]),
          ),
        },
      });
    }
    return states;
  }

  private leadOf(group: GroupId): { report: LeadReport; node: NodeId; at: number } | undefined {
    if (this.o.host.isLeader(group)) {
      const s = this.o.host.status(group)!;
      return {
        node: this.o.self,
        at: this.o.runtime.now(),
        report: {
          group,
          term: s.term,
          leader: s.id,
          conf: s.conf,
          conf_index: s.conf_index,
          commit: s.commit,
          progress: Object.entries(s.progress ?? {}).map(([r, p]) => [r, p.match, p.recent_active] as const),
        },
      };
    }
    return this.o.reports.lead(group, REPORT_MAX_AGE_MS);
  }

  /** Drained and replaced nodes whose replicas are all gone leave the member list. */
  private async lifecycle(cluster: ClusterState, states: Map<GroupId, { state: GroupState }>): Promise<void> {
    for (const m of cluster.members.values()) {
      if (m.state !== 'removed') continue;
      const told = this.told.get(m.id);
      if (told === true || (told !== undefined && this.o.runtime.now() < told)) continue;
      // A removed node is no longer dialled, and may be down: told through a link opened for it, retried slowly.
      this.told.set(m.id, this.o.runtime.now() + TELL_REMOVED_RETRY_MS);
      this.o
        .tellRemoved(m.id)
        .then(() => this.told.set(m.id, true))
        .catch(() => {});
    }
    const leaving = [...cluster.members.values()].filter(
      (m) => m.state === 'draining' || m.state === 'replaced',
    );
    if (leaving.length === 0 || states.size < CONTEXT_GROUPS.length + 1) return;
    for (const m of leaving) {
      let holds = false;
      for (const { state } of states.values()) {
        if ([...state.conf.voters, ...state.conf.learners].some((r) => nodeOfReplica(r) === m.id))
          holds = true;
      }
      if (holds) continue;
      await this.propose(
        m.state === 'draining' ? { type: 'removed', id: m.id } : { type: 'forget', id: m.id },
      );
      this.o.logger.info(
        { type: m.state === 'draining' ? 'node_removed' : 'node_forgotten', peer: m.name, id: m.id },
        m.state === 'draining'
          ? `node ${m.name} is drained and removed from the cluster`
          : `node ${m.name}'s replaced incarnation ${m.id} holds nothing any more`,
      );
    }
  }

  private plan(members: PlacementMember[], states: Map<GroupId, GroupView>): void {
    const parallel = this.o.parallel_max ?? 16;
    const eligible = members.filter((m) => m.eligible).length;
    const now = this.o.runtime.now();
    for (const [group, { state, node, at }] of states) {
      if (this.inFlight.size >= parallel) return;
      // A report from before the group's last change would have it done again.
      if (this.inFlight.has(group) || at <= (this.settled.get(group) ?? Number.NEGATIVE_INFINITY)) continue;
      const meta = group === META_GROUP;
      const stalled = this.stalledLearner(group, state, now);
      const action: PlanAction | undefined = stalled
        ? { type: 'remove', replica: stalled }
        : planGroup(group, state, members, {
            voters: voterCount(eligible, meta),
            learnersEverywhere: meta,
            promoteLagEntries: this.o.promote_lag_entries,
          });
      if (!action) continue;
      this.inFlight.add(group);
      this.execute(group, node, action)
        .then(
          () => this.o.onAction?.(action.type),
          (error: Error) =>
            this.o.logger.debug(
              { type: 'coordinator_action_failed', group, action, err: error },
              `group ${group}: ${action.type} failed: ${error.message}`,
            ),
        )
        .finally(() => {
          this.inFlight.delete(group);
          this.settled.set(group, this.o.runtime.now());
        });
    }
  }

  /**
   * A learner that has neither advanced nor been caught up for `learner_stall_ms` (its replica may be
   * gone, or never made). Judged by the same test as promotion, not by lag alone: in a group that
   * takes no writes the commit index stays below the promotion lag, so a learner that never answered
   * (match 0) passed a lag test yet was never promoted, and held up its group for good.
   */
  private stalledLearner(group: GroupId, state: GroupState, now: number): ReplicaId | undefined {
    const stallMs = this.o.learner_stall_ms ?? 30_000;
    for (const l of state.conf.learners) {
      const match = state.progress[l]?.match ?? 0;
      const key = `${group}|${l}`;
      const known = this.learners.get(key);
      if (!known || match > known.match || isCaughtUp(state, l, this.o.promote_lag_entries)) {
        this.learners.set(key, { match, since: now });
        continue;
      }
      if (now - known.since > stallMs) {
        this.learners.delete(key);
        return l;
      }
    }
    return undefined;
  }

  private async execute(group: GroupId, leaderNode: NodeId, action: PlanAction): Promise<void> {
    const leader = this.o.control(leaderNode);
    const change = (c: ConfChange) => leader.changeConf(group, c);
    switch (action.type) {
      case 'add_learner': {
        // A replica made for an addition that did not go through is used again, never one left from before.
        const held = this.heldBy(action.node, group);
        let replica = held !== undefined && this.created.has(`${group}|${held}`) ? held : undefined;
        if (held !== undefined && replica === undefined) {
          throw new Error(`${action.node} still holds ${held} of group ${group}; waiting for it to go`);
        }
        if (replica === undefined) {
          const result = await this.propose({ type: 'alloc_replica', group, node: action.node });
          replica = result.ok ? result.replica : undefined;
          if (!replica) throw new Error(result.ok ? 'no replica id allocated' : result.error);
          this.created.set(`${group}|${replica}`, this.o.runtime.now());
        }
        await this.o.control(action.node).createReplica(group, replica);
        await change({ type: 'add_learner', node: replica });
        this.o.logger.info(
          { type: 'replica_adding', group, replica, peer: action.node },
          `group ${group}: adding ${replica} as a learner`,
        );
        return;
      }
      case 'promote':
        await change({ type: 'promote', node: action.replica });
        this.o.logger.info(
          { type: 'replica_promoted', group, replica: action.replica },
          `group ${group}: promoted ${action.replica}`,
        );
        return;
      case 'remove':
        await change({ type: 'remove', node: action.replica });
        this.o.logger.info(
          { type: 'replica_removed', group, replica: action.replica },
          `group ${group}: removed ${action.replica}`,
        );
        return;
      case 'transfer_leader':
        await leader.transferLeader(group, action.to);
        return;
    }
  }

  /** The replica of `group` that `node` holds, as it last reported (or this node's own). */
  private heldBy(node: NodeId, group: GroupId): ReplicaId | undefined {
    if (node === this.o.self) return this.o.host.replicaOf(group);
    return this.o.reports.hostsOf(node, REPORT_MAX_AGE_MS)?.find((h) => h.group === group)?.replica;
  }

  /** Replicas nodes hold that their group's committed configuration has provably dropped. */
  private collectOrphans(
    cluster: ClusterState,
    states: Map<GroupId, { state: GroupState; term: number }>,
  ): void {
    const now = this.o.runtime.now();
    for (const [r, at] of this.created) if (now - at > 60_000) this.created.delete(r);
    for (const [r, at] of this.destroying) if (now - at > 10_000) this.destroying.delete(r);
    for (const member of cluster.members.values()) {
      const hosts =
        member.id === this.o.self ? undefined : this.o.reports.hostsOf(member.id, REPORT_MAX_AGE_MS);
      for (const h of hosts ?? this.localHosts(member.id)) {
        const lead = states.get(h.group);
        // Founding replicas share their node's id across groups: keys name the group too.
        const key = `${h.group}|${h.replica}`;
        if (!lead || this.created.has(key) || this.destroying.has(key)) continue;
        const evidence = { ...lead.state, term: lead.term };
        if (!removalProven(h.replica, h, evidence)) continue;
        this.destroying.set(key, now);
        this.o
          .control(member.id)
          .destroyReplica(h.group, h.replica, evidence)
          .then(
            () => {
              this.o.onAction?.('destroy');
              this.o.logger.info(
                { type: 'replica_destroyed', group: h.group, replica: h.replica, peer: member.name },
                `group ${h.group}: destroyed ${h.replica}, removed from the group`,
              );
            },
            (error: Error) =>
              this.o.logger.debug(
                { type: 'replica_destroy_failed', replica: h.replica, err: error },
                error.message,
              ),
          );
      }
    }
  }

  private localHosts(
    node: NodeId,
  ): { group: GroupId; replica: ReplicaId; conf: GroupState['conf']; conf_index: number }[] {
    if (node !== this.o.self) return [];
    const out = [];
    for (const group of this.o.host.groups()) {
      const s = this.o.host.status(group);
      if (s) out.push({ group, replica: s.id, conf: s.conf, conf_index: s.conf_index });
    }
    return out;
  }

  /**
   * Moves leadership from nodes that lead more than their share to ones that
   * lead less, a few groups per pass, only in groups with nothing else to do.
   */
  private balanceLeaders(
    members: PlacementMember[],
    states: Map<GroupId, { state: GroupState; node: NodeId }>,
  ): void {
    const nodes = members.filter((m) => m.eligible).map((m) => m.id);
    if (nodes.length < 2) return;
    const led = new Map<NodeId, GroupId[]>(nodes.map((n) => [n, []]));
    for (const [group, { node }] of states) if (group !== META_GROUP) led.get(node)?.push(group);
    const share = Math.ceil(CONTEXT_GROUPS.length / nodes.length);
    let budget = 4;
    for (const [node, groups] of led) {
      if (groups.length <= share || budget <= 0) continue;
      for (const group of groups) {
        if (budget <= 0 || (led.get(node)?.length ?? 0) <= share) break;
        if (this.inFlight.has(group)) continue;
        const { state } = states.get(group)!;
        const to = state.conf.voters.find((v) => {
          const target = nodeOfReplica(v);
          const p = state.progress[v];
          return (
            target !== node &&
            (led.get(target)?.length ?? Number.POSITIVE_INFINITY) + 1 < (led.get(node)?.length ?? 0) &&
            p?.active &&
            p.match >= state.commit
          );
        });
        if (to === undefined) continue;
        budget--;
        led.get(node)!.splice(led.get(node)!.indexOf(group), 1);
        led.get(nodeOfReplica(to))!.push(group);
        this.inFlight.add(group);
        this.o
          .control(node)
          .transferLeader(group, to)
          .then(
            () => this.o.onAction?.('balance'),
            () => {},
          )
          .finally(() => this.inFlight.delete(group));
      }
    }
  }

  private async propose(command: ClusterCommand): Promise<ClusterResult> {
    return (await this.o.host.propose(META_GROUP, encodeClusterCommand(command))) as ClusterResult;
  }
}
