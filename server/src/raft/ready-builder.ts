import type { BugSwitches } from './bugs.js';
import type { Outbox } from './outbox.js';
import type { RaftLog } from './raft-log.js';
import type { ReadIndexTracker } from './read-index.js';
import type { GroupId, HardState, PersistAck, Ready, ReplicaId, Role, SoftState } from './types.js';

/** The part of a replica's state the driver is told about. */
export interface ReplicaState {
  readonly term: number;
  readonly vote: ReplicaId | null;
  readonly lead: ReplicaId | null;
  readonly role: Role;
}

export interface ReadyBuilderOptions {
  readonly group: GroupId;
  readonly log: RaftLog;
  readonly outbox: Outbox;
  readonly reads: ReadIndexTracker;
  readonly bugs: BugSwitches;
  readonly maxApplyBytes: number;
  /** The hard state storage holds at start-up. */
  readonly stored: HardState;
  /** The soft state a replica starts in. */
  readonly soft: SoftState;
}

/**
 * Builds what a replica hands its driver: one write (snapshot, entries, hard
 * state) with the acknowledgement that will confirm it, the messages the outbox
 * releases, the committed entries that are safe to apply and the reads they
 * complete. It remembers the hard and soft state last handed over, so each is
 * emitted only when it changed.
 */
export class ReadyBuilder {
  /** A snapshot to write with the next `Ready`: a compaction, or one installed from a leader. */
  snapshotWrite: Ready['snapshot'] = null;
  private emittedHard: HardState;
  private emittedSoft: SoftState;

  constructor(private readonly o: ReadyBuilderOptions) {
    this.emittedHard = o.stored;
    this.emittedSoft = o.soft;
  }

  /** Whether the next `Ready` carries a write (messages that vouch for it are held until it is durable). */
  writePending(s: ReplicaState): boolean {
    return this.snapshotWrite !== null || this.o.log.hasUnstable() || this.hardChanged(s);
  }

  /** Whether a `Ready` has anything in it (the leadership's unsent appends aside). */
  has(s: ReplicaState): boolean {
    const { log, outbox, reads } = this.o;
    if (outbox.hasMessages() || this.snapshotWrite !== null || log.hasUnstable()) return true;
    if (this.hardChanged(s) || this.softChanged(s)) return true;
    return log.applied < this.applyLimit() || reads.hasAppliedBy(log.applied);
  }

  take(s: ReplicaState): Ready {
    const { group, log, outbox, reads } = this.o;
    const snapshot = this.snapshotWrite;
    this.snapshotWrite = null;
    const entries = log.takeUnstable();
    const hard = this.persistable(s);
    const hardChanged = this.hardChanged(s);
    let ack: PersistAck | null = null;
    if (snapshot !== null || entries.length > 0 || hardChanged) {
      this.emittedHard = hard;
      ack = {
        group,
        seq: outbox.issueWrite(),
        term: hard.term,
        vote: hard.vote,
        log_index: log.lastIndex(),
        log_term: log.lastTerm(),
      };
    } else {
      outbox.noWrite();
    }

    const committed = log.takeToApply(this.applyLimit(), this.o.maxApplyBytes);
    const soft = this.softChanged(s) ? { lead: s.lead, role: s.role, term: s.term } : null;
    if (soft) this.emittedSoft = soft;
    const messages = outbox.take();
    return {
      group,
      soft_state: soft,
      hard_state: ack !== null && hardChanged ? hard : null,
      snapshot,
      entries,
      ack,
      messages,
      committed_entries: committed,
      read_states: reads.takeApplied(log.applied),
    };
  }

  private persistable(s: ReplicaState): HardState {
    return { term: s.term, vote: this.persistedVote(s), commit: this.o.log.committed };
  }

  private hardChanged(s: ReplicaState): boolean {
    const h = this.emittedHard;
    return h.term !== s.term || h.vote !== this.persistedVote(s) || h.commit !== this.o.log.committed;
  }

  /** The vote as storage gets it (the `vote_not_persisted` test bug never writes one). */
  private persistedVote(s: ReplicaState): ReplicaId | null {
    return this.o.bugs.vote_not_persisted ? null : s.vote;
  }

  private softChanged(s: ReplicaState): boolean {
    const e = this.emittedSoft;
    return e.lead !== s.lead || e.role !== s.role || e.term !== s.term;
  }

  private applyLimit(): number {
    const { log, outbox, bugs } = this.o;
    if (bugs.apply_uncommitted) return log.lastIndex();
    // Entries are applied only once committed and durable here, so a restart never un-applies one.
    return Math.min(log.committed, outbox.stable);
  }
}
