import type { GroupId, Ready, Replica, WireMessage } from '../raft/index.js';
import type { HostObserver } from '../replication/host/raft-host.js';
import type { SafetyChecker, StateDigests } from './checkers.js';
import type { FaultTarget } from './faults.js';
import type { SimNode, SimProcess } from './sim-node.js';

/** What the observer needs of the simulation: the world, and faults to aim at the moments it sees. */
export interface ObservedWorld extends FaultTarget {
  isolateNow(node: SimNode): void;
}

/**
 * Wires what each process's host reports to the checkers (elections,
 * appends, commits, applies and restores, state digests), and aims faults
 * at the worst moments it sees: a new leader, a leader that just committed,
 * a node that just promised something durable.
 */
export class RunObserver {
  constructor(
    private readonly w: ObservedWorld,
    private readonly checker: SafetyChecker,
    private readonly digests: StateDigests,
  ) {}

  /** What one process's host reports, wired to the checkers. */
  host(node: SimNode, proc: SimProcess): HostObserver {
    // Checkers know replicas by their ids, which are never reused.
    const id = (g: GroupId) => proc.host.replicaOf(g) ?? node.id;
    return {
      started: (g, replica, stored) => {
        const sm = proc.machines.get(g)!;
        const snapIndex = stored?.snapshot?.meta.index ?? 0;
        if (stored?.snapshot && sm.applied !== snapIndex) {
          this.w.violation(
            'snapshot_atomicity',
            `${replica.id} group ${g}: stored snapshot ${snapIndex} holds state applied to ${sm.applied}`,
          );
        }
        this.checker.replicaStarted(
          g,
          replica.id,
          replica.committed,
          replica.applied,
          stored?.hardState?.commit ?? 0,
        );
        if (stored?.snapshot) this.digests.record(g, snapIndex, sm.digest(), replica.id);
      },
      ready: (r, replica) => {
        this.ready(node, proc, r, replica);
      },
      applied: (g, e) => {
        const sm = proc.machines.get(g)!;
        sm.advance(e.index);
        this.checker.applied(g, id(g), e);
        if (e.index % 4 === 0) this.digests.record(g, e.index, sm.digest(), id(g));
      },
      restored: (g, snapshot) => {
        const sm = proc.machines.get(g)!;
        this.checker.snapshotInstalled(g, id(g), snapshot.meta, sm.applied);
        this.digests.record(g, snapshot.meta.index, sm.digest(), id(g));
        this.w.stats.snapshotsInstalled++;
        this.w.trace(`${id(g)} group ${g} installed snapshot ${snapshot.meta.index}@${snapshot.meta.term}`);
      },
    };
  }

  /** Safety checks on what a replica just decided, and faults aimed at the worst moments. */
  private ready(node: SimNode, proc: SimProcess, r: Ready, replica: Replica): void {
    const g = r.group;
    const s = this.w.scenario;
    const id = replica.id;
    if (r.soft_state?.role === 'leader') {
      this.w.trace(`${id} group ${g} leader at term ${r.soft_state.term}`);
      this.checker.leaderElected(g, id, r.soft_state.term, replica);
      if (this.w.faultsOn() && this.w.prng.chance(s.leaderCrashRate)) {
        this.w.at(this.w.now() + this.w.prng.float() * 30, () => this.w.crashAndRestart(node));
      }
      if (this.w.faultsOn() && this.w.prng.chance(s.leaderIsolateRate)) {
        this.w.isolateSoon(node);
      }
    }
    if (r.entries.length > 0) this.checker.entriesAppended(g, id, r.entries, replica);
    if (r.snapshot?.mode === 'compact') this.w.stats.compactions++;
    if (r.hard_state) {
      this.checker.committed(g, id, r.hard_state.commit, r.hard_state.term, replica);
      if (proc.host.isLeader(g) && this.w.faultsOn() && this.w.prng.chance(s.commitIsolateRate))
        this.w.isolateNow(node);
    }
    if (r.ack) this.w.stats.writes++;
  }

  /** Crashing right after a node promised something durable (granted a vote, acknowledged entries) is the worst moment. */
  sent(node: SimNode, m: WireMessage): void {
    const promise = (m.type === 'vote_resp' || m.type === 'app_resp') && !m.reject;
    if (
      promise &&
      this.w.faultsOn() &&
      this.w.scenario.promiseCrashRate > 0 &&
      this.w.prng.chance(this.w.scenario.promiseCrashRate)
    ) {
      this.w.at(this.w.now() + this.w.prng.float() * 3, () => this.w.crashAndRestart(node));
    }
  }
}
