import type { GroupId, ReplicaId } from '../raft/types.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import type { CheckerName } from './checkers.js';
import type { Scenario } from './scenario.js';
import type { SimNode, SimProcess } from './sim-node.js';

/**
 * Once the liveness window closes, a group still converging gets more time in
 * steps of this share of the window, up to `LIVENESS_MAX_WINDOWS` windows in all.
 */
export const LIVENESS_STEP = 0.2;
export const LIVENESS_MAX_WINDOWS = 2;

/** A group's progress at one moment after the faults stopped. */
export interface GroupProgress {
  /** The commit index of the group's leader. */
  readonly commit: number;
  /** The applied index of each member whose node is up and hosts it. */
  readonly applied: ReadonlyMap<ReplicaId, number>;
  /** Every member of the configuration the leader knows. */
  readonly members: readonly ReplicaId[];
  /** The group's liveness probe has not committed yet. */
  readonly probePending: boolean;
}

/**
 * Whether a group that has not converged when the liveness window closes is
 * still getting there, judged against the progress it showed a step earlier
 * (`before`; undefined when it had no leader then). `now` is undefined when
 * it has no leader now. A backlog from the fault phase drains at the
 * throughput the run's configuration allows (one entry in flight, slow
 * disks), which a fixed window cannot bound; a group that stalls cannot hide
 * behind that: it must have a leader, commit more while its probe waits, and
 * every member behind the commit index must have applied more.
 */
export function stillConverging(before: GroupProgress | undefined, now: GroupProgress | undefined): boolean {
  if (!before || !now) return false;
  if (now.probePending && now.commit <= before.commit) return false;
  for (const id of now.members) {
    const applied = now.applied.get(id);
    if (applied !== undefined && applied >= now.commit) continue;
    const earlier = before.applied.get(id);
    if (applied === undefined || earlier === undefined || applied <= earlier) return false;
  }
  return true;
}

/** What the liveness watch reads of, and does to, a run. */
export interface LivenessWorld {
  readonly scenario: Scenario;
  readonly nodes: readonly SimNode[];
  now(): number;
  at(at: number, fn: () => void): void;
  trace(line: string): void;
  violation(checker: CheckerName, message: string): void;
  /** A violation was already recorded. */
  failed(): boolean;
  /** The run is over (every group settled, or a verdict was given). */
  ended(): boolean;
  end(): void;
  leaderOf(group: GroupId): { node: SimNode; proc: SimProcess } | undefined;
  /** Groups whose liveness probe has not committed yet. */
  pendingProbes(): GroupId[];
}

/**
 * After the faults stop, every group must commit its probe and every member
 * catch up within the liveness window; a group that is visibly still
 * converging when it closes gets more time (see `stillConverging`).
 */
export class LivenessWatch {
  /** Each group's progress when the window was last looked at (undefined: no leader). */
  private progress = new Map<GroupId, GroupProgress | undefined>();

  constructor(private readonly w: LivenessWorld) {}

  /** Samples a step before the window closes, and judges when it closes. */
  schedule(): void {
    const s = this.w.scenario;
    const step = s.livenessMs * LIVENESS_STEP;
    this.w.at(s.faultMs + s.livenessMs - step, () => this.sample());
    this.w.at(s.faultMs + s.livenessMs, () => this.check());
  }

  /** Why a group has not converged, or undefined when it has. */
  lagging(g: GroupId): string | undefined {
    const l = this.w.leaderOf(g);
    if (!l) return `group ${g} has no leader`;
    const status = l.proc.host.status(g)!;
    for (const id of [...status.conf.voters, ...status.conf.learners]) {
      const applied = this.appliedBy(g, id);
      if (applied === undefined || applied < status.commit) {
        return `group ${g}: ${id} applied ${applied ?? 'nothing'} of ${status.commit}`;
      }
    }
    return undefined;
  }

  /** What replica `id` of group `g` has applied, if its node is up and hosts it. */
  private appliedBy(g: GroupId, id: ReplicaId): number | undefined {
    const n = this.w.nodes.find((x) => x.id === nodeOfReplica(id));
    const host = n?.proc?.up ? n.proc.host : undefined;
    return host?.replicaOf(g) === id ? host.status(g)!.applied : undefined;
  }

  private sample(): void {
    const probes = new Set(this.w.pendingProbes());
    this.progress = new Map();
    for (let g = 0; g < this.w.scenario.groups; g++) {
      const status = this.w.leaderOf(g)?.proc.host.status(g);
      const members = status ? [...status.conf.voters, ...status.conf.learners] : [];
      const applied = new Map<ReplicaId, number>();
      for (const id of members) {
        const a = this.appliedBy(g, id);
        if (a !== undefined) applied.set(id, a);
      }
      this.progress.set(
        g,
        status && { commit: status.commit, applied, members, probePending: probes.has(g) },
      );
    }
  }

  /**
   * The liveness window closes. A group that has not converged but is still
   * converging (see `stillConverging`) gets another step, up to
   * LIVENESS_MAX_WINDOWS windows after the faults stopped; any other fails now.
   */
  private check(): void {
    if (this.w.ended()) return;
    const s = this.w.scenario;
    const before = this.progress;
    this.sample();
    const unsettled: GroupId[] = [];
    for (let g = 0; g < s.groups; g++) {
      if (this.progress.get(g)?.probePending || this.lagging(g)) unsettled.push(g);
    }
    const step = s.livenessMs * LIVENESS_STEP;
    const converging =
      unsettled.length > 0 &&
      this.w.now() + step <= s.faultMs + LIVENESS_MAX_WINDOWS * s.livenessMs &&
      this.w.nodes.every((n) => n.proc?.up) &&
      unsettled.every((g) => stillConverging(before.get(g), this.progress.get(g)));
    if (converging) {
      this.w.trace(`liveness: groups ${unsettled.join(',')} still converging; checking again in ${step}ms`);
      this.w.at(this.w.now() + step, () => this.check());
      return;
    }
    this.fail();
  }

  private fail(): void {
    const s = this.w.scenario;
    const after = `${Math.round(this.w.now() - s.faultMs)}ms after faults stopped`;
    const probes = this.w.pendingProbes();
    if (probes.length > 0) {
      this.w.violation('liveness', `group ${probes[0]} did not commit a proposal within ${after}`);
    }
    for (let g = 0; g < s.groups && !this.w.failed(); g++) {
      const why = this.lagging(g);
      if (why) {
        const l = this.w.leaderOf(g);
        if (l)
          this.w.trace(
            `group ${g} leader ${l.node.id} progress: ${JSON.stringify(l.proc.host.status(g)!.progress)}`,
          );
        for (const n of this.w.nodes) {
          const st = n.proc?.up && n.proc.host.hosts(g) ? n.proc.host.status(g)! : undefined;
          if (st)
            this.w.trace(
              `group ${g} ${n.id}: ${st.role} term ${st.term} lead ${st.lead} commit ${st.commit} applied ${st.applied} last ${st.last_index} snap ${st.snapshot_index}`,
            );
        }
        this.w.violation('liveness', `${why} ${after}`);
      }
    }
    const down = this.w.nodes.filter((n) => !n.proc?.up);
    if (!this.w.failed() && down.length > 0) {
      this.w.violation('liveness', `${down.map((n) => n.id).join(', ')} not up ${after}`);
    }
    // Clients still retrying when time ran out: their outcome stays unknown.
    this.w.end();
  }
}
