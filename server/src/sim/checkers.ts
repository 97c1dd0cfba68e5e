import type { Entry, GroupId, NodeId, SnapshotMeta } from '../raft/types.js';
import { entryHash } from './hash.js';

export type CheckerName =
  | 'election_safety'
  | 'log_matching'
  | 'leader_completeness'
  | 'state_machine_safety'
  | 'commit_monotonic'
  | 'snapshot_atomicity'
  | 'linearizability'
  | 'append_log'
  | 'monotonic_reads'
  | 'acknowledgement'
  | 'state_digest'
  | 'durability'
  | 'storage_integrity'
  | 'liveness'
  | 'assertion';

export class Violation extends Error {
  override name = 'Violation';
  constructor(
    readonly checker: CheckerName,
    message: string,
  ) {
    super(message);
  }
}

/** What the checkers may read of a replica's log. */
export interface LogView {
  termAt(index: number): number | undefined;
  entryAt(index: number): Entry | undefined;
  readonly log: { readonly offset: number; readonly snapshot: { readonly meta: SnapshotMeta } };
}

interface GroupRecord {
  readonly leaders: Map<number, NodeId>;
  /** Log matching: (index, term) → fingerprint of the entry and of the term before it. */
  readonly entries: Map<string, { hash: number; prevTerm: number | undefined }>;
  /** Committed entries as announced by any replica: index → term and fingerprint. */
  readonly committedTerm: number[];
  readonly committedHash: number[];
  /**
   * The term of the replica that first announced the commit: the entry was
   * committed in that term or earlier, so every leader of a later term holds it.
   */
  readonly committedBy: number[];
  maxCommitted: number;
  /** Applied entries by index (fingerprint), across all replicas. */
  readonly appliedHash: number[];
}

interface ReplicaRecord {
  commit: number;
  applied: number;
}

/**
 * The Raft safety properties, checked incrementally as the simulation runs:
 * each check touches only what just changed (new entries, a commit advance,
 * an election), so checking after every step stays cheap.
 */
export class SafetyChecker {
  private readonly groups = new Map<GroupId, GroupRecord>();
  private readonly replicas = new Map<string, ReplicaRecord>();
  elections = 0;

  private group(g: GroupId): GroupRecord {
    let r = this.groups.get(g);
    if (!r) {
      r = {
        leaders: new Map(),
        entries: new Map(),
        committedTerm: [],
        committedHash: [],
        committedBy: [],
        maxCommitted: 0,
        appliedHash: [],
      };
      this.groups.set(g, r);
    }
    return r;
  }

  private replica(g: GroupId, node: NodeId): ReplicaRecord {
    const key = `${g}/${node}`;
    let r = this.replicas.get(key);
    if (!r) {
      r = { commit: 0, applied: 0 };
      this.replicas.set(key, r);
    }
    return r;
  }

  /** A replica (re)started from its durable state: its volatile progress restarts there. */
  replicaStarted(g: GroupId, node: NodeId, commit: number, applied: number, durableCommit: number): void {
    if (commit < durableCommit) {
      throw new Violation(
        'commit_monotonic',
        `group ${g} ${node} restarted with commit ${commit} below its durable commit ${durableCommit}`,
      );
    }
    this.replicas.set(`${g}/${node}`, { commit, applied });
  }

  /** Election Safety: at most one leader per term; Leader Completeness: it holds every committed entry. */
  leaderElected(g: GroupId, node: NodeId, term: number, view: LogView): void {
    const rec = this.group(g);
    const existing = rec.leaders.get(term);
    if (existing !== undefined && existing !== node) {
      throw new Violation(
        'election_safety',
        `group ${g} term ${term} has two leaders: ${existing} and ${node}`,
      );
    }
    if (existing === undefined) this.elections++;
    rec.leaders.set(term, node);
    const offset = view.log.offset;
    const snap = view.log.snapshot.meta;
    const snapTerm = rec.committedTerm[snap.index];
    if (snap.index > 0 && snapTerm !== undefined && snapTerm !== snap.term) {
      throw new Violation(
        'leader_completeness',
        `group ${g} leader ${node} (term ${term}) has snapshot ${snap.index}@${snap.term}, committed term is ${snapTerm}`,
      );
    }
    for (let i = offset + 1; i <= rec.maxCommitted; i++) {
      const t = rec.committedTerm[i];
      if (t === undefined || rec.committedBy[i]! >= term) continue;
      const e = view.entryAt(i);
      if (!e || e.term !== t || entryHash(e.type, e.data) !== rec.committedHash[i]) {
        throw new Violation(
          'leader_completeness',
          `group ${g} leader ${node} (term ${term}) lacks committed entry ${i}@${t} (has ${e ? `${e.index}@${e.term}` : 'nothing'})`,
        );
      }
    }
  }

  /** Log Matching: an (index, term) pair names one entry, and one predecessor term. */
  entriesAppended(g: GroupId, node: NodeId, entries: readonly Entry[], view: LogView): void {
    const rec = this.group(g);
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const hash = entryHash(e.type, e.data);
      const prevTerm = e.index > 1 ? view.termAt(e.index - 1) : 0;
      const seen = rec.entries.get(key);
      if (!seen) {
        rec.entries.set(key, { hash, prevTerm });
        continue;
      }
      if (seen.hash !== hash) {
        throw new Violation(
          'log_matching',
          `group ${g} ${node}: entry ${key} differs from another replica's`,
        );
      }
      if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        throw new Violation(
          'log_matching',
          `group ${g} ${node}: entry ${key} follows term ${prevTerm}, elsewhere term ${seen.prevTerm}`,
        );
      }
      if (seen.prevTerm === undefined && prevTerm !== undefined) seen.prevTerm = prevTerm;
    }
  }

  /** A replica announced a new commit index; committed entries must agree everywhere. */
  committed(g: GroupId, node: NodeId, commit: number, term: number, view: LogView): void {
    const rec = this.group(g);
    const rep = this.replica(g, node);
    if (commit < rep.commit) {
      throw new Violation(
        'commit_monotonic',
        `group ${g} ${node}: commit went from ${rep.commit} back to ${commit}`,
      );
    }
    for (let i = Math.max(rep.commit + 1, view.log.offset + 1); i <= commit; i++) {
      const e = view.entryAt(i);
      if (!e) continue;
      const hash = entryHash(e.type, e.data);
      const t = rec.committedTerm[i];
      if (t === undefined) {
        rec.committedTerm[i] = e.term;
        rec.committedHash[i] = hash;
        rec.committedBy[i] = term;
        const applied = rec.appliedHash[i];
        if (applied !== undefined && applied !== hash) {
          throw new Violation(
            'state_machine_safety',
            `group ${g}: entry applied at ${i} is not the one committed there`,
          );
        }
      } else if (t !== e.term || rec.committedHash[i] !== hash) {
        throw new Violation(
          'state_machine_safety',
          `group ${g} ${node}: committed ${i}@${e.term}, but ${i}@${t} was committed elsewhere`,
        );
      } else if (term < rec.committedBy[i]!) {
        rec.committedBy[i] = term;
      }
    }
    rep.commit = commit;
    if (commit > rec.maxCommitted) rec.maxCommitted = commit;
  }

  /** State Machine Safety: every replica applies the same entry at each index, in order. */
  applied(g: GroupId, node: NodeId, entry: Entry): void {
    const rec = this.group(g);
    const rep = this.replica(g, node);
    if (entry.index !== rep.applied + 1) {
      throw new Violation(
        'commit_monotonic',
        `group ${g} ${node}: applied ${entry.index} after ${rep.applied}`,
      );
    }
    rep.applied = entry.index;
    const hash = entryHash(entry.type, entry.data);
    const seen = rec.appliedHash[entry.index];
    if (seen === undefined) rec.appliedHash[entry.index] = hash;
    else if (seen !== hash) {
      throw new Violation(
        'state_machine_safety',
        `group ${g} ${node}: applied a different entry at ${entry.index}`,
      );
    }
    const committed = rec.committedHash[entry.index];
    if (committed !== undefined && committed !== hash) {
      throw new Violation(
        'state_machine_safety',
        `group ${g} ${node}: applied ${entry.index} differs from the committed entry`,
      );
    }
  }

  /** A snapshot replaced the state machine: it must describe exactly its index. */
  snapshotInstalled(g: GroupId, node: NodeId, meta: SnapshotMeta, stateApplied: number): void {
    if (stateApplied !== meta.index) {
      throw new Violation(
        'snapshot_atomicity',
        `group ${g} ${node}: snapshot at ${meta.index} holds state applied to ${stateApplied}`,
      );
    }
    const rec = this.group(g);
    const rep = this.replica(g, node);
    if (meta.index < rep.applied) {
      throw new Violation(
        'commit_monotonic',
        `group ${g} ${node}: snapshot ${meta.index} rewinds applied ${rep.applied}`,
      );
    }
    const t = rec.committedTerm[meta.index];
    if (t !== undefined && t !== meta.term) {
      throw new Violation(
        'state_machine_safety',
        `group ${g} ${node}: snapshot ${meta.index}@${meta.term}, committed term ${t}`,
      );
    }
    rep.applied = meta.index;
    if (meta.index > rep.commit) rep.commit = meta.index;
    if (meta.index > rec.maxCommitted) rec.maxCommitted = meta.index;
  }

  maxCommitted(g: GroupId): number {
    return this.groups.get(g)?.maxCommitted ?? 0;
  }
}

/**
 * Replicas' state machines compared at equal applied index: a digest of the
 * whole state (maintained as entries apply, recomputed from scratch after a
 * snapshot restore) recorded per (group, index) must be the same on every
 * replica, which catches divergence that entry fingerprints cannot (a
 * snapshot that does not describe its index, a non-deterministic apply).
 */
export class StateDigests {
  private readonly seen = new Map<string, { digest: number; node: NodeId }>();

  record(g: GroupId, index: number, digest: number, node: NodeId): void {
    const key = `${g}/${index}`;
    const prior = this.seen.get(key);
    if (!prior) {
      this.seen.set(key, { digest, node });
      return;
    }
    if (prior.digest !== digest) {
      throw new Violation(
        'state_digest',
        `group ${g}: ${node} and ${prior.node} hold different states at applied index ${index}`,
      );
    }
  }
}
