import type { BugSwitches } from './bugs.js';
import {
  applyConfChange,
  type ConfHistory,
  encodeConfChange,
  isMember,
  isVoter,
  quorumSize,
} from './conf.js';
import type { RaftConfig } from './config.js';
import { fail, ok, type RaftError, type Result, raftError } from './errors.js';
import { Followers } from './followers.js';
import type { Outbox } from './outbox.js';
import type { Progress } from './progress.js';
import type { RaftLog } from './raft-log.js';
import type { ReadIndexTracker } from './read-index.js';
import { EMPTY_DATA } from './replica-init.js';
import type {
  AppendResponseMessage,
  ConfChange,
  Entry,
  EntryType,
  GroupId,
  HeartbeatResponseMessage,
  Message,
  Proposed,
  ReplicaId,
} from './types.js';

export interface LeadershipOptions {
  readonly id: ReplicaId;
  readonly group: GroupId;
  /** The term this replica leads. */
  readonly term: number;
  readonly cfg: RaftConfig;
  readonly bugs: BugSwitches;
  readonly log: RaftLog;
  readonly confs: ConfHistory;
  readonly reads: ReadIndexTracker;
  readonly outbox: Outbox;
  /** Appends to the replica's log (which keeps its configurations in step and calls `syncProgress`). */
  readonly appendToLog: (entries: readonly Entry[]) => void;
  /** Our own removal committed: become a follower. */
  readonly stepDown: () => void;
}

/**
 * One term of leading a group: the followers' progress, proposals, commit,
 * ReadIndex confirmation and leadership transfer. It exists only while the
 * replica leads, so nothing of a past term's leadership can leak into the next.
 */
export class Leadership {
  readonly followers: Followers;
  /** The voter leadership is being handed to, if a transfer is under way. */
  transferee: ReplicaId | null = null;
  /**
   * Members removed during this term. Their replica may be destroyed and
   * recreated under the same node name; messages its old incarnation sent at this
   * term may still be in flight and must not count for the new one. A recreated
   * replica starts above this term (`min_term`), so it is heard once a later term begins.
   */
  private readonly removedThisTerm = new Set<ReplicaId>();
  /** Index of the empty entry appended on election; reads and conf changes wait for its commit. */
  private termStartIndex = 0;
  private uncommittedBytes = 0;
  /** Work deferred to the next `ready()` so proposals and reads of one turn share messages. */
  private appendsPending = false;
  private commitPending = false;

  constructor(private readonly o: LeadershipOptions) {
    this.followers = new Followers({
      leader: o.id,
      group: o.group,
      cfg: o.cfg,
      bugs: o.bugs,
      log: o.log,
      term: o.term,
      outbox: o.outbox,
    });
  }

  /** Takes office: every follower starts unknown, and an entry of the new term is appended. */
  start(): void {
    const next = this.o.log.lastIndex() + 1;
    // Peers start inactive (as in etcd): check-quorum deposes a leader that hears
    // from no quorum within its first election timeout, not its second.
    for (const id of this.members()) {
      if (id !== this.o.id) this.followers.track(id, next, false);
    }
    // Committing an entry of the new term commits everything before it (and enables reads and
    // membership changes).
    const e = this.append('normal', EMPTY_DATA);
    this.termStartIndex = e.index;
  }

  hasWork(): boolean {
    return this.appendsPending || this.commitPending || this.o.reads.hasUnsentRound();
  }

  // ---------------------------------------------------------------------------
  // Proposals

  refuse(bytes: number, largestEntry: number): RaftError | null {
    const { cfg } = this.o;
    if (this.transferee !== null)
      return raftError('transferring', 'leadership transfer in progress', this.o.id);
    if (largestEntry > cfg.max_entry_bytes)
      return raftError('entry_too_large', 'entry exceeds max_entry_bytes');
    // One batch larger than the whole budget is still accepted when nothing else is outstanding.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > cfg.max_uncommitted_bytes) {
      return raftError('uncommitted_limit', 'too many uncommitted bytes; followers are behind');
    }
    return null;
  }

  append(type: EntryType, data: Uint8Array): Entry {
    const e: Entry = { index: this.o.log.lastIndex() + 1, term: this.o.term, type, data };
    this.o.appendToLog([e]);
    this.uncommittedBytes += data.length;
    this.appendsPending = true;
    if (this.o.bugs.ack_before_durable) this.maybeCommit();
    return e;
  }

  proposeConfChange(change: ConfChange): Result<Proposed> {
    const { log, confs, bugs, cfg } = this.o;
    if (log.committed < this.termStartIndex) {
      // Single-server changes are only safe once the leader has committed in its term (Ongaro's fix).
      return fail(
        raftError('not_committed_in_term', 'the leader has not yet committed an entry of its term'),
      );
    }
    if (confs.currentIndex() > log.committed && !bugs.concurrent_conf_changes) {
      return fail(raftError('conf_change_pending', 'a membership change is not yet committed'));
    }
    const next = applyConfChange(confs.current(), change);
    if (typeof next === 'string') return fail(raftError('invalid_conf_change', next));
    if (change.type === 'promote') {
      const pr = this.followers.get(change.node);
      // match > 0 also proves the learner was initialized: an empty replica must never become a voter.
      if (!pr || pr.match === 0 || pr.match + cfg.max_promote_lag_entries < log.committed) {
        return fail(
          raftError('learner_behind', `${change.node} has not caught up (match ${pr?.match ?? 0})`),
        );
      }
    }
    const e = this.append('conf_change', encodeConfChange(change));
    return ok({ index: e.index, term: e.term });
  }

  /** Starts handing leadership to `to` (a voter): it campaigns once its log matches ours. */
  transfer(to: ReplicaId): void {
    this.transferee = to;
    const pr = this.followers.get(to)!;
    if (pr.match === this.o.log.lastIndex()) this.sendTimeoutNow(to);
    else this.followers.sendAppend(to, pr, true);
  }

  // ---------------------------------------------------------------------------
  // Followers' answers and the election-timeout period

  step(m: Message): void {
    const pr = this.followers.get(m.from);
    if (!pr || this.removedThisTerm.has(m.from)) return;
    pr.recentActive = true;
    switch (m.type) {
      case 'app_resp':
        this.handleAppendResponse(m, pr);
        return;
      case 'heartbeat_resp':
        this.handleHeartbeatResponse(m, pr);
        return;
      case 'snap_resp':
        this.followers.snapshotAnswered(m, pr);
        return;
      default:
        return;
    }
  }

  /**
   * An election timeout passed: whether a quorum was heard from in it (check-quorum;
   * a new period starts), and any transfer not finished by now is abandoned.
   */
  endPeriod(): boolean {
    if (this.o.cfg.check_quorum) {
      if (!this.quorumActive()) return false;
      this.followers.markInactive();
    }
    this.transferee = null;
    return true;
  }

  private quorumActive(): boolean {
    const voters = this.o.confs.current().voters;
    let active = 0;
    for (const v of voters) if (v === this.o.id || this.followers.get(v)?.recentActive) active++;
    return active >= quorumSize(voters.length);
  }

  private handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    if (m.reject) {
      this.followers.appendRejected(m, pr);
      return;
    }
    const wasPaused = pr.paused();
    if (!this.followers.appendAccepted(m, pr)) return;
    this.maybeCommit();
    this.followers.sendMore(m.from, pr, wasPaused);
    if (m.from === this.transferee && pr.match === this.o.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage, pr: Progress): void {
    this.followers.heartbeatAnswered(m, pr);
    if (m.ctx > 0) {
      for (const r of this.o.reads.ack(m.from, m.ctx, this.o.id, this.o.confs.current().voters)) {
        this.deliverRead(r.ctx, r.from, r.index);
      }
    }
  }

  private members(): ReplicaId[] {
    const c = this.o.confs.current();
    return [...c.voters, ...c.learners];
  }

  /** Keeps one progress per other member after a configuration change. */
  syncProgress(): void {
    const conf = this.o.confs.current();
    for (const id of this.followers.ids()) {
      if (isMember(conf, id)) continue;
      this.followers.forget(id);
      this.removedThisTerm.add(id);
    }
    // A member added now counts as active, or check-quorum could depose us before it ever answered.
    for (const id of this.members()) {
      if (id !== this.o.id && !this.followers.has(id)) this.followers.track(id, this.o.log.lastIndex(), true);
    }
    if (this.transferee !== null && !isVoter(conf, this.transferee)) this.transferee = null;
    // A smaller quorum may already confirm pending reads or commit entries.
    for (const r of this.o.reads.confirmed(this.o.id, conf.voters)) this.deliverRead(r.ctx, r.from, r.index);
  }

  // ---------------------------------------------------------------------------
  // Commit

  private selfMatch(): number {
    return this.o.bugs.ack_before_durable ? this.o.log.lastIndex() : this.o.outbox.stable;
  }

  maybeCommit(): void {
    const { log, confs, bugs } = this.o;
    const voters = confs.current().voters;
    if (voters.length === 0) return;
    const matches: number[] = [];
    for (const v of voters)
      matches.push(v === this.o.id ? this.selfMatch() : (this.followers.get(v)?.match ?? 0));
    matches.sort((a, b) => b - a);
    const index = bugs.commit_without_quorum ? this.selfMatch() : matches[quorumSize(voters.length) - 1]!;
    if (index <= log.committed) return;
    // Only entries of the current term commit by counting replicas (Raft paper, Figure 8).
    if (!bugs.commit_old_term && log.term(index) !== this.o.term) return;
    const before = log.committed;
    log.commitTo(index);
    this.onCommit(before);
  }

  private onCommit(before: number): void {
    const { log, confs, reads } = this.o;
    for (let i = Math.max(before + 1, this.termStartIndex); i <= log.committed; i++) {
      this.uncommittedBytes -= log.entry(i)?.data.length ?? 0;
    }
    if (this.uncommittedBytes < 0) this.uncommittedBytes = 0;
    this.commitPending = true;
    if (before < this.termStartIndex && log.committed >= this.termStartIndex) {
      for (const r of reads.takeDeferred()) this.read(r.ctx, r.from);
    }
    const conf = confs.current();
    if (!isVoter(conf, this.o.id) && log.committed >= confs.currentIndex()) {
      // Our removal is committed: hand leadership to the most up-to-date voter and step down.
      let best: ReplicaId | null = null;
      let bestMatch = -1;
      for (const v of conf.voters) {
        const m = this.followers.get(v)?.match ?? 0;
        if (m > bestMatch) {
          best = v;
          bestMatch = m;
        }
      }
      if (best !== null && bestMatch === log.lastIndex()) this.sendTimeoutNow(best);
      // This leadership ends here: the answer being handled must not start a transfer of its own.
      this.transferee = null;
      this.o.stepDown();
    }
  }

  private sendTimeoutNow(to: ReplicaId): void {
    this.o.outbox.send({ type: 'timeout_now', group: this.o.group, from: this.o.id, to, term: this.o.term });
  }

  // ---------------------------------------------------------------------------
  // Reads

  /** A ReadIndex request, ours or a follower's (`from`). */
  read(ctx: string, from: ReplicaId): void {
    const { log, confs, bugs, reads } = this.o;
    if (log.committed < this.termStartIndex && !bugs.read_before_term_commit) {
      // Our commit index may lag the previous leader's until an entry of this term commits.
      reads.defer(ctx, from);
      return;
    }
    const voters = confs.current().voters;
    if ((voters.length === 1 && voters[0] === this.o.id) || bugs.read_without_quorum) {
      this.deliverRead(ctx, from, log.committed);
      return;
    }
    reads.addConfirm(ctx, from, log.committed);
  }

  private deliverRead(ctx: string, from: ReplicaId, index: number): void {
    if (from === this.o.id) {
      this.o.reads.waitApply({ ctx, index });
    } else {
      this.o.outbox.send({
        type: 'read_index_resp',
        group: this.o.group,
        from: this.o.id,
        to: from,
        term: 0,
        ctx,
        index,
      });
    }
  }

  /** Sends what this turn accumulated: one append per follower, one heartbeat round for reads. */
  flush(): void {
    const round = this.o.reads.roundToSend();
    if (round > 0) this.followers.broadcastHeartbeat(round);
    if (this.appendsPending || this.commitPending) {
      const sendIfEmpty = this.commitPending;
      this.appendsPending = false;
      this.commitPending = false;
      this.followers.sendAppends(sendIfEmpty);
    }
  }
}
