import { removalProven } from '../membership/removal-evidence.js';
import { isMember, isVoter } from '../raft/conf.js';
import type { ConfChange, ConfState, GroupId, NodeId, RaftStatus } from '../raft/types.js';
import { nodeOfReplica, replicaId } from '../replication/replica-id.js';
import { nodeNameOf, type SimNode, type SimProcess } from './sim-node.js';
import type { SimWorld } from './world.js';

interface Move {
  phase: 'add' | 'promote' | 'remove' | 'destroy';
  /** The replica to add: always a fresh id (a new one if this one was ever destroyed). */
  target: NodeId;
  readonly victim: NodeId;
  /** Replacing a replica whose node lost its disk: the old replica lives nowhere any more. */
  readonly replacement: boolean;
}

/**
 * An adversarial membership controller. It moves replicas (add learner →
 * promote → remove the old voter), also back onto the node they were removed
 * from (the only way to move anything on three nodes); during partitions and
 * crashes as much as in calm; sometimes it proposes a second, conflicting
 * change at once, to the leader or to a replica that wrongly thinks it leads;
 * it replaces replicas whose node lost its disk and came back as a new node
 * under the same name; and it hands leadership around. Every change goes
 * through the shipping host's API, and every added replica gets a fresh id.
 */
export class MembershipController {
  private readonly moves = new Map<GroupId, Move>();
  private readonly everMoved = new Set<GroupId>();
  /** Replicas asked to destroy themselves, by `replica|group`: the node and process asked, and whether it is durable. */
  private readonly destroys = new Map<
    string,
    { node: string; group: GroupId; epoch: number; durable: boolean }
  >();
  /** Replica ids destroyed once: never proposed or created again (ids are never reused). */
  private readonly dead = new Set<NodeId>();
  private replicas = 0;

  constructor(private readonly w: SimWorld) {}

  /** Moves still under way that must finish before the run may end. */
  busy(): boolean {
    for (const m of this.moves.values())
      if (m.replacement || (m.phase !== 'add' && m.phase !== 'promote')) return true;
    return false;
  }

  /** Any move under way. */
  moving(): boolean {
    return this.moves.size > 0;
  }

  /** Replicas in any configuration a live replica holds whose node has since lost its disk. */
  staleMembers(): Set<NodeId> {
    const stale = new Set<NodeId>();
    for (const n of this.w.nodes) {
      const host = n.proc?.up ? n.proc.host : undefined;
      if (!host) continue;
      for (const g of host.groups()) {
        const conf = host.status(g)?.conf;
        if (!conf) continue;
        for (const id of [...conf.voters, ...conf.learners]) if (this.isStale(id)) stale.add(id);
      }
    }
    return stale;
  }

  private nodeOf(id: NodeId): SimNode | undefined {
    const name = nodeNameOf(id);
    return this.w.nodes.find((n) => n.name === name);
  }

  private isStale(id: NodeId): boolean {
    const node = this.nodeOf(id);
    return node !== undefined && node.id !== nodeOfReplica(id);
  }

  private freshReplica(node: SimNode): NodeId {
    return replicaId(node.id, ++this.replicas);
  }

  round(): void {
    const s = this.w.scenario;
    const p = this.w.prng;
    for (const g of this.everMoved) this.reconcile(g);
    for (let g = 0; g < s.groups; g++) {
      const move = this.moves.get(g);
      if (move) this.advance(g, move);
      else if (!this.startReplacement(g) && g < s.activeGroups && this.w.faultsOn() && p.chance(s.moveRate)) {
        // A move passes through a configuration that cannot afford a lost replica on top of one being repaired.
        if (!this.w.lossUnrepaired()) this.startMove(g);
      }
      if (g < s.activeGroups && this.w.faultsOn() && p.chance(s.transferRate)) this.transfer(g);
    }
  }

  private transfer(g: GroupId): void {
    const l = this.w.leaderOf(g);
    if (!l) return;
    const self = l.proc.host.replicaOf(g);
    const others = l.proc.host.status(g)!.conf.voters.filter((v) => v !== self);
    if (others.length === 0) return;
    const to = this.w.prng.pick(others);
    try {
      l.proc.host.transferLeadership(g, to);
      this.w.stats.transfers++;
      this.w.trace(`group ${g}: transfer leadership ${self} -> ${to}`);
    } catch {
      // Refused (a transfer or change in progress): fine.
    }
  }

  /** A member whose node came back as a new node (its disk was lost) is replaced by a replica on that node. */
  private startReplacement(g: GroupId): boolean {
    const l = this.w.leaderOf(g);
    if (!l) return false;
    const conf = l.proc.host.status(g)!.conf;
    for (const id of [...conf.voters, ...conf.learners]) {
      if (!this.isStale(id)) continue;
      const target = this.freshReplica(this.nodeOf(id)!);
      this.moves.set(g, { phase: 'add', target, victim: id, replacement: true });
      this.everMoved.add(g);
      this.w.trace(`group ${g}: replace ${id} (its disk was lost) by ${target}`);
      return true;
    }
    return false;
  }

  private startMove(g: GroupId): void {
    const l = this.w.leaderOf(g);
    if (!l) return;
    const status = l.proc.host.status(g)!;
    if (status.conf_index > status.commit || status.conf.learners.length > 0) return;
    const conf = status.conf;
    const used = new Set([...conf.voters, ...conf.learners].map(nodeNameOf));
    const spare = this.w.nodes.filter((n) => !used.has(n.name));
    const victim = this.w.prng.pick(conf.voters);
    // With no spare node, the replica moves back onto its own node: removed, then added as a new replica.
    const onto = spare.length > 0 ? this.w.prng.pick(spare) : this.nodeOf(victim);
    if (!onto || (spare.length === 0 && conf.voters.length < 3)) return;
    const target = this.freshReplica(onto);
    this.moves.set(g, { phase: spare.length > 0 ? 'add' : 'remove', target, victim, replacement: false });
    this.w.trace(`group ${g}: move ${victim} -> ${target} begins`);
    this.everMoved.add(g);
  }

  private advance(g: GroupId, move: Move): void {
    const l = this.w.leaderOf(g);
    if (!l) return;
    const status = l.proc.host.status(g)!;
    if (status.conf_index > status.commit) return;
    const conf = status.conf;
    if (this.isStale(move.target)) {
      // The target's node lost its disk meanwhile; a replacement move takes over.
      this.moves.delete(g);
      return;
    }
    if (this.dead.has(move.target)) {
      // Its replica was destroyed before its addition committed (see `reconcile`): add a new one instead.
      if (isMember(conf, move.target)) return;
      const node = this.nodeOf(move.target);
      if (!node) {
        this.moves.delete(g);
        return;
      }
      move.target = this.freshReplica(node);
      move.phase = 'add';
    }
    const backOnto = nodeNameOf(move.target) === nodeNameOf(move.victim);
    switch (move.phase) {
      case 'add': {
        if (isMember(conf, move.target)) {
          move.phase = 'promote';
          return;
        }
        if (!this.w.faultsOn() && !move.replacement) {
          this.moves.delete(g);
          return;
        }
        // A replica the target's node still holds from an earlier membership must be gone for good first:
        // a crash before its removal is durable would bring it back.
        const node = this.nodeOf(move.target);
        const leftover = node?.proc?.up ? node.proc.host.replicaOf(g) : undefined;
        // The target itself, created from an addition that a later leader's log dropped: add it again.
        const again = leftover === move.target;
        if (
          !node ||
          (!again &&
            ((leftover !== undefined && !this.destroyed(g, node, leftover, status)) ||
              !this.addable(g, node)))
        ) {
          return;
        }
        // The new replica is created once the leader's log names it (see `reconcile`).
        this.propose(l, g, { type: 'add_learner', node: move.target }, conf);
        return;
      }
      case 'promote':
        if (isVoter(conf, move.target)) {
          // Moving onto a spare node, the victim goes next; moving back onto its node, it is gone already.
          if (isMember(conf, move.victim)) move.phase = 'remove';
          else this.moves.delete(g);
          return;
        }
        if (!conf.learners.includes(move.target)) {
          move.phase = 'add';
          return;
        }
        this.propose(l, g, { type: 'promote', node: move.target }, conf);
        return;
      case 'remove':
        if (!isMember(conf, move.victim)) {
          move.phase = 'destroy';
          return;
        }
        if (!this.w.faultsOn() && !backOnto && !move.replacement) {
          this.moves.delete(g);
          return;
        }
        this.propose(l, g, { type: 'remove', node: move.victim }, conf);
        return;
      case 'destroy': {
        // The removed replica is destroyed (a wiped node's old one lives nowhere); moving back onto the
        // same node waits until that is durable.
        const node = this.nodeOf(move.victim);
        const destroyed =
          move.replacement ||
          !node ||
          node.id !== nodeOfReplica(move.victim) ||
          this.destroyed(g, node, move.victim, status);
        if (!destroyed) return;
        if (!isMember(conf, move.target)) move.phase = 'add';
        else this.moves.delete(g);
        return;
      }
    }
  }

  /** Proposes a change; sometimes also a conflicting one at once (it must be refused, or be harmless). */
  private propose(
    l: { node: SimNode; proc: SimProcess },
    g: GroupId,
    change: ConfChange,
    conf: ConfState,
  ): void {
    this.submit(l.proc, g, change);
    if (!this.w.faultsOn()) return;
    if (this.w.prng.chance(this.w.scenario.isolateAfterChangeRate)) this.w.isolateSoon(l.node);
    if (!this.w.prng.chance(this.w.scenario.concurrentChangeRate)) return;
    // Mostly to the same leader (which must refuse it: one change at a time), else to any live replica
    // that believes it leads (a stale leader).
    const leaders = this.w.nodes.filter((n) => n.proc?.up && n.proc.host.hosts(g) && n.proc.host.isLeader(g));
    const target = this.w.prng.chance(0.7) || leaders.length === 0 ? l.node : this.w.prng.pick(leaders);
    const used = new Set([...conf.voters, ...conf.learners, change.node].map(nodeNameOf));
    const spare = this.w.nodes.filter((n) => !used.has(n.name) && this.addable(g, n));
    // Removing a voter on top of a lost replica would leave the group without a quorum for good.
    const removable = conf.voters.filter((v) => v !== change.node);
    const remove =
      !this.w.lossUnrepaired() && removable.length >= 2 && (spare.length === 0 || this.w.prng.chance(0.7));
    if (!remove && spare.length === 0) return;
    const other: ConfChange = remove
      ? { type: 'remove', node: this.w.prng.pick(removable) }
      : { type: 'add_learner', node: this.freshReplica(this.w.prng.pick(spare)) };
    if (target.proc) this.submit(target.proc, g, other);
  }

  private submit(proc: SimProcess, g: GroupId, change: ConfChange): void {
    const before = proc.host.status(g)?.last_index ?? 0;
    // Accepted or refused synchronously; the outcome of an accepted change shows in later rounds.
    proc.host.proposeConfChange(g, change).then(
      () => {},
      () => {},
    );
    const after = proc.host.status(g)?.last_index ?? 0;
    if (after > before) {
      this.w.stats.confChanges++;
      this.w.trace(
        `group ${g}: ${proc.host.replicaOf(g)} proposed ${change.type} ${change.node} at ${after}`,
      );
    } else {
      this.w.stats.confChangesRefused++;
    }
  }

  /**
   * Asks `node` to destroy `replica` of `g`, if it holds it; true once it does
   * not and that is durable. A process that restarts with the replica (its
   * removal was not yet durable) is asked again. `evidence` is the committed
   * configuration (a leader's status) that leaves the replica out; it proves
   * the removal only if it is newer than every configuration the replica
   * itself knows: a stale leader's older configuration may predate the
   * replica's addition.
   */
  private destroyed(g: GroupId, node: SimNode, replica: NodeId, evidence: RaftStatus): boolean {
    const proc = node.proc;
    if (!proc?.up) return false;
    const key = `${replica}|${g}`;
    const asked = this.destroys.get(key);
    if (asked?.epoch === proc.epoch) return asked.durable;
    if (proc.host.replicaOf(g) !== replica) return true;
    const own = proc.host.status(g);
    if (own && !removalProven(replica, own, evidence)) return false;
    const term = evidence.term;
    const entry = { node: node.name, group: g, epoch: proc.epoch, durable: false };
    this.destroys.set(key, entry);
    this.dead.add(replica);
    proc.host.removeReplica(g, term).then(
      () => {
        if (node.proc === proc) entry.durable = true;
      },
      () => {},
    );
    this.w.trace(`${replica} group ${g}: replica destroyed`);
    return false;
  }

  /** Whether `node` may get a new replica of `g` now: it holds none, and destroyed none not yet durably. */
  private addable(g: GroupId, node: SimNode): boolean {
    const proc = node.proc;
    if (!proc?.up || proc.host.hosts(g)) return false;
    for (const d of this.destroys.values()) {
      if (d.node === node.name && d.group === g && d.epoch === proc.epoch && !d.durable) return false;
    }
    return true;
  }

  /**
   * Members lacking a replica get an empty one, created once the leader's log
   * names it (and again if a crash lost it before it stored anything). A
   * replica no committed configuration names is destroyed (one a crash
   * resurrected because its removal was not yet durable); never on an
   * uncommitted configuration, which a later leader may not share.
   */
  private reconcile(g: GroupId): void {
    const l = this.w.leaderOf(g);
    if (!l) return;
    const status = l.proc.host.status(g)!;
    const conf = status.conf;
    for (const id of [...conf.voters, ...conf.learners]) {
      const node = this.nodeOf(id);
      // Founding replicas (the node's own id) are founded again by their node at every start.
      if (!id.includes('/') || this.dead.has(id) || !node?.proc?.up || node.id !== nodeOfReplica(id))
        continue;
      const host = node.proc.host;
      if (host.hosts(g) || host.failure() || !this.addable(g, node)) continue;
      host.addReplica(g, id);
      this.w.trace(`${id} group ${g}: empty replica created`);
    }
    if (status.conf_index > status.commit) return;
    const move = this.moves.get(g);
    // A learner whose replica was destroyed before its addition committed is taken out again.
    const dead = conf.learners.find((id) => this.dead.has(id));
    if (dead !== undefined) this.submit(l.proc, g, { type: 'remove', node: dead });
    for (const n of this.w.nodes) {
      const replica = n.proc?.up ? n.proc.host.replicaOf(g) : undefined;
      if (replica === undefined || isMember(conf, replica)) continue;
      if (move && (move.target === replica || move.victim === replica)) continue;
      this.destroyed(g, n, replica, status);
    }
  }
}
