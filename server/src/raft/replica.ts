import { type BugSwitches, isBugSwitches, NO_BUGS } from './bugs.js';
import {
  applyConfChange,
  ConfHistory,
  decodeConfChange,
  EMPTY_CONF,
  encodeConfChange,
  isMember,
  isVoter,
  quorumSize,
} from './conf.js';
import type { RaftConfig } from './config.js';
import { assert, fail, ok, type RaftError, type Result, raftError } from './errors.js';
import type { Prng } from './prng.js';
import { Progress, type ProgressState } from './progress.js';
import { RaftLog } from './raft-log.js';
import { ReadIndexTracker } from './read-index.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  Checksum,
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  GroupId,
  HardState,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  PersistAck,
  Ready,
  ReplicaId,
  Role,
  Snapshot,
  SnapshotChunkMessage,
  SnapshotResponseMessage,
  SoftState,
  VoteMessage,
  VoteResponseMessage,
} from './types.js';

/** What storage returned for a group at start-up (all empty for a brand-new replica). */
export interface PersistedState {
  readonly hard_state: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export interface ReplicaOptions {
  readonly id: ReplicaId;
  readonly group: GroupId;
  /** Already validated (`validateRaftConfig`). */
  readonly config: RaftConfig;
  readonly prng: Prng;
  /** Verifies snapshots received from a leader (see `SnapshotMeta.checksum`). */
  readonly checksum: Checksum;
  readonly storage?: PersistedState;
  /** The index the state machine already reflects; defaults to the snapshot index. */
  readonly applied?: number;
  /**
   * For a replica recreated on a node that hosted the group before: start above
   * the term the old replica reached, so it can never vote twice in a term.
   */
  readonly min_term?: number;
  /** `external`: the multi-group layer sends heartbeats for all groups at once. */
  readonly heartbeat?: 'own' | 'external';
  /** Test-only fault switches; see `bugs.ts`. */
  readonly bugs?: BugSwitches;
}

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recent_active: boolean;
}

export interface RaftStatus {
  readonly id: ReplicaId;
  readonly group: GroupId;
  readonly role: Role;
  readonly term: number;
  readonly vote: ReplicaId | null;
  readonly lead: ReplicaId | null;
  readonly commit: number;
  readonly applied: number;
  readonly stable: number;
  readonly first_index: number;
  readonly last_index: number;
  readonly snapshot_index: number;
  /** The newest configuration in the log (in force on this replica). */
  readonly conf: ConfState;
  /** Index of the entry that introduced `conf` (the snapshot index if none since). */
  readonly conf_index: number;
  readonly transferee: ReplicaId | null;
  /** Leader only: each other member's replication progress. */
  readonly progress: Readonly<Record<ReplicaId, ProgressStatus>> | null;
}

export interface Proposed {
  readonly index: number;
  readonly term: number;
}

const EMPTY_DATA = new Uint8Array(0);

/**
 * The durable state a brand-new group starts from on each founding member:
 * a snapshot at index 1 holding the configuration and the state machine's
 * initial state (`checksum` is the CRC-32 of `data`; 0 for no data).
 */
export function initialGroupState(
  conf: ConfState,
  initial: { readonly data: Uint8Array; readonly checksum: number } = { data: EMPTY_DATA, checksum: 0 },
): PersistedState {
  assert(conf.voters.length > 0, 'a group needs at least one voter');
  return {
    hard_state: { term: 1, vote: null, commit: 1 },
    snapshot: { meta: { index: 1, term: 1, conf, checksum: initial.checksum }, data: initial.data },
    entries: [],
  };
}

/**
 * One replica of one Raft group, as a pure state machine. Inputs are `tick`,
 * `step` (a message), proposals and requests; outputs are collected by `ready()`.
 * Durability is acknowledged through `persisted()`. See the README for the
 * driver contract.
 */
export class Replica {
  readonly id: ReplicaId;
  readonly group: GroupId;
  private readonly cfg: RaftConfig;
  private readonly prng: Prng;
  private readonly bugs: BugSwitches;
  private readonly ownHeartbeat: boolean;

  term = 0;
  vote: ReplicaId | null = null;
  lead: ReplicaId | null = null;
  role: Role = 'follower';

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTicks: number;

  readonly log: RaftLog;
  private readonly confs: ConfHistory;
  private readonly progress = new Map<ReplicaId, Progress>();
  private readonly votes = new Map<ReplicaId, boolean>();
  private leadTransferee: ReplicaId | null = null;
  /**
   * Leader: members removed during this term. Their replica may be destroyed and
   * recreated under the same node name; messages its old incarnation sent at this
   * term may still be in flight and must not count for the new one. A recreated
   * replica starts above this term (`min_term`), so it is heard once a later term begins.
   */
  private readonly removedThisTerm = new Set<ReplicaId>();
  /** Leader: index of the empty entry appended on election; reads and conf changes wait for its commit. */
  private termStartIndex = 0;
  private uncommittedBytes = 0;
  private readonly reads: ReadIndexTracker;
  private readonly incoming: SnapshotReceiver;

  /** Messages ready to send, and messages waiting for a write to become durable. */
  private msgs: Message[] = [];
  private held: { seq: number; msg: Message }[] = [];
  /** Leader work deferred to the next `ready()` so proposals and reads of one turn share messages. */
  private appendsPending = false;
  private commitPending = false;

  /** Durability: the log prefix up to `stable` and the hard state at `durableTerm` are on disk. */
  private stable: number;
  private durableTerm: number;
  private nextSeq = 1;
  private lastEmittedSeq = 0;
  private lastAckedSeq = 0;
  /** Writes in flight that cut the log at `from`: acknowledgements of older writes cannot vouch past it. */
  private barriers: { seq: number; from: number }[] = [];
  private emittedHard: HardState;
  private pendingSnapshotWrite: Ready['snapshot'] = null;
  private emittedSoft: SoftState;

  constructor(options: ReplicaOptions) {
    assert(options.id.length > 0, 'node id is a non-empty string');
    assert(
      Number.isInteger(options.group) && options.group >= 0 && options.group <= 65535,
      'group id in 0..65535',
    );
    this.id = options.id;
    this.group = options.group;
    this.cfg = options.config;
    this.prng = options.prng;
    this.bugs = options.bugs ?? NO_BUGS;
    assert(isBugSwitches(this.bugs), 'bugs must come from bugsForTesting');
    this.ownHeartbeat = (options.heartbeat ?? 'own') === 'own';
    this.reads = new ReadIndexTracker(this.cfg.max_read_index_queue);
    this.incoming = new SnapshotReceiver(this.cfg.max_snapshot_bytes, options.checksum);

    const stored = options.storage ?? { hard_state: null, snapshot: null, entries: [] };
    const snapshot = stored.snapshot ?? {
      meta: { index: 0, term: 0, conf: EMPTY_CONF, checksum: 0 },
      data: EMPTY_DATA,
    };
    const hard = stored.hard_state ?? { term: 0, vote: null, commit: 0 };
    const applied = options.applied ?? snapshot.meta.index;
    this.log = new RaftLog(snapshot, stored.entries, hard.commit, applied);
    this.confs = new ConfHistory(snapshot.meta.conf, this.log.offset);
    for (const e of this.log.entries) this.trackConfEntry(e);

    this.term = hard.term;
    this.vote = hard.vote;
    this.durableTerm = hard.term;
    this.stable = this.log.lastIndex();
    this.emittedHard = { term: hard.term, vote: hard.vote, commit: this.log.committed };
    if (options.min_term !== undefined && options.min_term > this.term) {
      // Not durable yet: the first ready() persists it, and nothing is sent at this term before that.
      this.term = options.min_term;
      this.vote = null;
    }
    this.randomizedElectionTicks = this.randomElectionTicks();
    this.emittedSoft = { lead: null, role: 'follower', term: this.term };
  }

  // ---------------------------------------------------------------------------
  // Inputs

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** Multi-group layer only (external heartbeats): send this group's heartbeats now. */
  heartbeat(): void {
    if (this.role === 'leader') this.broadcastHeartbeat(0);
  }

  /** Starts an election now (tests and single-node start-up); pre-vote still applies. */
  campaign(): void {
    this.hup(false);
  }

  step(m: Message): void {
    assert(m.group === this.group, `message for group ${m.group} stepped into group ${this.group}`);
    assert(m.to === this.id, `message for ${m.to} stepped into ${this.id}`);
    if (m.from === this.id) return;
    if (m.type === 'read_index') {
      this.stepReadIndex(m.from, m.ctx);
      return;
    }
    if (m.type === 'read_index_resp') {
      if (!this.reads.full()) this.reads.waitApply({ ctx: m.ctx, index: m.index });
      return;
    }

    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'pre_vote') {
        // Leader stickiness: while a live leader is heard, do not let a partitioned node disrupt it.
        const inLease =
          this.cfg.check_quorum && this.lead !== null && this.electionElapsed < this.cfg.election_ticks;
        if (inLease && !m.transfer) return;
      }
      if (m.type === 'pre_vote' || (m.type === 'pre_vote_resp' && !m.reject)) {
        // A pre-vote carries a hypothetical term; it must not move ours.
      } else {
        const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.term) {
      if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        // A stale leader may be cut off from higher terms (pre-vote stops others from bumping
        // theirs); tell it the current term so it steps down.
        this.send({
          type: 'heartbeat_resp',
          group: this.group,
          from: this.id,
          to: m.from,
          term: this.term,
          ctx: 0,
        });
      } else if (m.type === 'pre_vote') {
        this.sendVoteResponse(m, true);
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'pre_vote') {
      this.handleVoteRequest(m);
      return;
    }

    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'pre_candidate':
      case 'candidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  propose(data: Uint8Array): Result<Proposed> {
    const refused = this.refuseProposal(data.length, data.length);
    if (refused) return fail(refused);
    const e = this.appendAsLeader('normal', data);
    return ok({ index: e.index, term: e.term });
  }

  /** Appends several entries at once; all or none are accepted. */
  proposeBatch(items: readonly Uint8Array[]): Result<Proposed[]> {
    let bytes = 0;
    let largest = 0;
    for (const d of items) {
      bytes += d.length;
      largest = Math.max(largest, d.length);
    }
    const refused = this.refuseProposal(bytes, largest);
    if (refused) return fail(refused);
    const out: Proposed[] = [];
    for (const d of items) {
      const e = this.appendAsLeader('normal', d);
      out.push({ index: e.index, term: e.term });
    }
    return ok(out);
  }

  proposeConfChange(change: ConfChange): Result<Proposed> {
    const refused = this.refuseProposal(0, 0);
    if (refused) return fail(refused);
    if (this.log.committed < this.termStartIndex) {
      // Single-server changes are only safe once the leader has committed in its term (Ongaro's fix).
      return fail(
        raftError('not_committed_in_term', 'the leader has not yet committed an entry of its term'),
      );
    }
    if (this.confs.currentIndex() > this.log.committed && !this.bugs.concurrent_conf_changes) {
      return fail(raftError('conf_change_pending', 'a membership change is not yet committed'));
    }
    const next = applyConfChange(this.confs.current(), change);
    if (typeof next === 'string') return fail(raftError('invalid_conf_change', next));
    if (change.type === 'promote') {
      const pr = this.progress.get(change.node);
      // match > 0 also proves the learner was initialized: an empty replica must never become a voter.
      if (!pr || pr.match === 0 || pr.match + this.cfg.max_promote_lag_entries < this.log.committed) {
        return fail(
          raftError('learner_behind', `${change.node} has not caught up (match ${pr?.match ?? 0})`),
        );
      }
    }
    const e = this.appendAsLeader('conf_change', encodeConfChange(change));
    return ok({ index: e.index, term: e.term });
  }

  /**
   * Requests a linearizable read. The answer is a `ReadState` with this `ctx` in
   * a later `ready()`, released once the state machine has applied its index.
   * A read that is lost (leader change, dropped message) never answers: the
   * caller times out and retries.
   */
  readIndex(ctx: string): Result<void> {
    if (this.reads.full()) return fail(raftError('read_index_queue_full', 'too many pending reads'));
    if (this.role === 'leader') {
      this.leaderRead(ctx, this.id);
      return ok(undefined);
    }
    if (this.lead === null) return fail(raftError('not_leader', 'no leader known', null));
    this.send({ type: 'read_index', group: this.group, from: this.id, to: this.lead, term: 0, ctx });
    return ok(undefined);
  }

  transferLeader(to: ReplicaId): Result<void> {
    if (this.role !== 'leader') return fail(raftError('not_leader', 'only the leader transfers', this.lead));
    if (to === this.id) return ok(undefined);
    if (!isVoter(this.confs.current(), to))
      return fail(raftError('invalid_transfer', `${to} is not a voter`));
    if (this.leadTransferee === to) return ok(undefined);
    this.leadTransferee = to;
    // The transfer is abandoned when the next election timeout passes.
    this.electionElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.maybeSendAppend(to, pr, true);
    return ok(undefined);
  }

  /**
   * The state machine has a snapshot at `index` (≤ the last applied index it was
   * given): record it, let storage drop the log up to it, and keep serving
   * lagging followers from it. `checksum` is the CRC-32 of `data`.
   */
  compact(index: number, data: Uint8Array, checksum: number): Result<void> {
    if (index <= this.log.snapshot.meta.index) {
      return fail(
        raftError('snapshot_stale', `snapshot at ${index} is not newer than ${this.log.snapshot.meta.index}`),
      );
    }
    assert(index <= this.log.applied, `compaction at ${index} beyond applied ${this.log.applied}`);
    const term = this.log.term(index);
    assert(term !== undefined, `compaction index ${index} is not in the log`);
    const snapshot: Snapshot = { meta: { index, term, conf: this.confs.at(index), checksum }, data };
    this.log.snapshot = snapshot;
    const keepFrom = Math.max(this.log.offset, index - this.cfg.compaction_keep_entries);
    this.confs.compactTo(keepFrom);
    this.log.compactTo(keepFrom);
    this.pendingSnapshotWrite = { snapshot, mode: 'compact' };
    return ok(undefined);
  }

  /**
   * Storage made the write carrying `ack` durable. Acknowledgements arrive in
   * the order the writes were issued; each releases what waited for it.
   */
  persisted(ack: PersistAck): void {
    assert(ack.group === this.group, 'acknowledgement for another group');
    assert(
      ack.seq > this.lastAckedSeq && ack.seq <= this.lastEmittedSeq,
      `acknowledgement ${ack.seq} out of order`,
    );
    this.lastAckedSeq = ack.seq;
    assert(ack.term >= this.durableTerm, 'durable term never decreases');
    this.durableTerm = ack.term;

    // The write made the log durable up to (log_index, log_term), unless a later
    // write already in flight cuts below it: then only the prefix before the cut counts.
    while (this.barriers.length > 0 && this.barriers[0]!.seq <= ack.seq) this.barriers.shift();
    let limit = Math.min(ack.log_index, this.log.lastIndex());
    if (this.bugs.ack_matched_by_index) {
      this.stable = Math.max(this.stable, limit);
    } else {
      for (const b of this.barriers) limit = Math.min(limit, b.from - 1);
      if (limit > this.stable) {
        if (limit < ack.log_index || limit <= this.log.offset || this.log.matchTerm(limit, ack.log_term)) {
          this.stable = limit;
        }
      }
    }

    while (this.held.length > 0 && this.held[0]!.seq <= ack.seq) this.msgs.push(this.held.shift()!.msg);

    if (this.role === 'leader') {
      this.maybeCommit();
    } else if (
      this.role === 'candidate' &&
      ack.term === this.term &&
      ack.vote === this.id &&
      !this.votes.has(this.id)
    ) {
      // The self-vote counts only once durable: a candidate that crashed before could vote again.
      this.votes.set(this.id, true);
      this.pollVotes();
    }
  }

  // ---------------------------------------------------------------------------
  // Outputs

  hasReady(): boolean {
    if (this.msgs.length > 0 || this.pendingSnapshotWrite !== null || this.log.hasUnstable()) return true;
    if (
      this.role === 'leader' &&
      (this.appendsPending || this.commitPending || this.reads.hasUnsentRound())
    ) {
      return true;
    }
    if (this.hardStateChanged() || this.softStateChanged()) return true;
    const limit = this.applyLimit();
    return this.log.applied < limit || this.reads.hasAppliedBy(this.log.applied);
  }

  ready(): Ready {
    this.flush();

    const snapshot = this.pendingSnapshotWrite;
    this.pendingSnapshotWrite = null;
    const entries = this.log.takeUnstable();
    const hard = this.persistedHardState();
    const hardChanged = this.hardStateChanged();
    let ack: PersistAck | null = null;
    if (snapshot !== null || entries.length > 0 || hardChanged) {
      const seq = this.nextSeq++;
      this.lastEmittedSeq = seq;
      this.emittedHard = hard;
      ack = {
        group: this.group,
        seq,
        term: hard.term,
        vote: hard.vote,
        log_index: this.log.lastIndex(),
        log_term: this.log.lastTerm(),
      };
    } else if (this.held.length > 0) {
      // Nothing new to write: whatever waited for "the next write" only needs the writes already issued.
      for (const h of this.held) if (h.seq > this.lastEmittedSeq) h.seq = this.lastEmittedSeq;
      while (this.held.length > 0 && this.held[0]!.seq <= this.lastAckedSeq)
        this.msgs.push(this.held.shift()!.msg);
    }

    const committed = this.takeCommitted();
    const soft = this.softStateChanged() ? this.softState() : null;
    if (soft) this.emittedSoft = soft;
    const messages = this.msgs;
    this.msgs = [];
    return {
      group: this.group,
      soft_state: soft,
      hard_state: ack !== null && hardChanged ? hard : null,
      snapshot,
      entries,
      ack,
      messages,
      committed_entries: committed,
      read_states: this.reads.takeApplied(this.log.applied),
    };
  }

  status(): RaftStatus {
    let progress: Record<ReplicaId, ProgressStatus> | null = null;
    if (this.role === 'leader') {
      progress = {};
      for (const [id, pr] of this.progress) {
        progress[id] = { match: pr.match, next: pr.next, state: pr.state, recent_active: pr.recentActive };
      }
    }
    return {
      id: this.id,
      group: this.group,
      role: this.role,
      term: this.term,
      vote: this.vote,
      lead: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      stable: this.stable,
      first_index: this.log.firstIndex(),
      last_index: this.log.lastIndex(),
      snapshot_index: this.log.snapshot.meta.index,
      conf: this.confs.current(),
      conf_index: this.confs.currentIndex(),
      transferee: this.leadTransferee,
      progress,
    };
  }

  get committed(): number {
    return this.log.committed;
  }

  get applied(): number {
    return this.log.applied;
  }

  /** The term at `index` in this replica's log (undefined if compacted or absent). */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  conf(): ConfState {
    return this.confs.current();
  }

  // ---------------------------------------------------------------------------
  // Roles

  private becomeFollower(term: number, lead: ReplicaId | null): void {
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = 'follower';
    this.lead = lead;
    this.resetRoleState();
  }

  private becomePreCandidate(): void {
    this.role = 'pre_candidate';
    this.lead = null;
    this.resetRoleState();
    this.votes.set(this.id, true);
    this.requestVotes('pre_vote', this.term + 1, false);
    this.pollVotes();
  }

  private becomeCandidate(transfer: boolean): void {
    this.term += 1;
    this.vote = this.id;
    this.role = 'candidate';
    this.lead = null;
    this.resetRoleState();
    // Normally the self-vote is counted when the hard state carrying it is durable (see persisted()).
    if (this.bugs.vote_not_persisted) this.votes.set(this.id, true);
    this.requestVotes('vote', this.term, transfer);
    this.pollVotes();
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.role = 'leader';
    this.lead = this.id;
    this.resetRoleState();
    const next = this.log.lastIndex() + 1;
    // Peers start inactive (as in etcd): check-quorum deposes a leader that hears
    // from no quorum within its first election timeout, not its second.
    for (const id of this.members()) {
      if (id !== this.id) this.progress.set(id, this.newProgress(next, false));
    }
    // An entry of the new term: committing it commits everything before it (and enables reads
    // and membership changes).
    const e = this.appendAsLeader('normal', EMPTY_DATA);
    this.termStartIndex = e.index;
  }

  private resetRoleState(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks = this.randomElectionTicks();
    this.votes.clear();
    this.progress.clear();
    this.removedThisTerm.clear();
    this.leadTransferee = null;
    this.termStartIndex = 0;
    this.uncommittedBytes = 0;
    this.appendsPending = false;
    this.commitPending = false;
    this.reads.resetLeader();
  }

  private randomElectionTicks(): number {
    return this.cfg.election_ticks + this.prng.int(this.cfg.election_ticks);
  }

  /**
   * A voter campaigns. So does a replica whose own removal is appended but not
   * yet committed: it may hold the only copy of that entry (a leader that
   * removed itself and stepped down before the entry spread), and the voters
   * left cannot elect anyone without it. It counts votes in the new
   * configuration, without its own, and once elected commits its removal and
   * steps down.
   */
  private promotable(): boolean {
    if (this.log.lastIndex() === 0) return false;
    if (isVoter(this.confs.current(), this.id)) return true;
    return (
      this.confs.currentIndex() > this.log.committed && isVoter(this.confs.at(this.log.committed), this.id)
    );
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (!transfer) this.becomePreCandidate();
    else this.becomeCandidate(transfer);
  }

  private tickElection(): void {
    this.electionElapsed++;
    // Only a replica that may campaign restarts its timer. A learner's timer keeps running, so
    // once its leader falls silent it stays out of that leader's lease and grants votes: it may
    // be a voter in a configuration it has not received yet.
    if (this.electionElapsed >= this.randomizedElectionTicks && this.promotable()) {
      this.electionElapsed = 0;
      this.randomizedElectionTicks = this.randomElectionTicks();
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.election_ticks) {
      this.electionElapsed = 0;
      if (this.cfg.check_quorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, null);
          return;
        }
        for (const pr of this.progress.values()) pr.recentActive = false;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = null;
    }
    if (this.ownHeartbeat && this.heartbeatElapsed >= this.cfg.heartbeat_ticks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(0);
    }
  }

  private quorumActive(): boolean {
    const voters = this.confs.current().voters;
    let active = 0;
    for (const v of voters) if (v === this.id || this.progress.get(v)?.recentActive) active++;
    return active >= quorumSize(voters.length);
  }

  // ---------------------------------------------------------------------------
  // Elections

  private requestVotes(type: 'vote' | 'pre_vote', term: number, transfer: boolean): void {
    for (const v of this.confs.current().voters) {
      if (v === this.id) continue;
      const m: VoteMessage = {
        type,
        group: this.group,
        from: this.id,
        to: v,
        term,
        log_index: this.log.lastIndex(),
        log_term: this.log.lastTerm(),
        transfer,
      };
      this.send(m);
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    if (this.log.lastIndex() === 0) {
      // An uninitialized replica (created empty, waiting for its first snapshot) may stand in for a
      // node whose old replica was removed and wiped; in a stale configuration it would count as
      // that voter without holding its log. It votes once the leader has initialized it.
      this.sendVoteResponse(m, true);
      return;
    }
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (m.type === 'pre_vote' && m.term > this.term);
    if (canVote && (this.bugs.vote_without_log_check || this.log.isUpToDate(m.log_index, m.log_term))) {
      if (m.type === 'vote') {
        // Record the vote before sending: the grant is held until the write carrying it is durable.
        this.electionElapsed = 0;
        this.vote = m.from;
      }
      this.sendVoteResponse(m, false);
    } else {
      this.sendVoteResponse(m, true);
    }
  }

  private sendVoteResponse(m: VoteMessage, reject: boolean): void {
    const r: VoteResponseMessage = {
      type: m.type === 'vote' ? 'vote_resp' : 'pre_vote_resp',
      group: this.group,
      from: this.id,
      to: m.from,
      // A granted pre-vote echoes the hypothetical term; everything else carries ours.
      term: reject ? this.term : m.term,
      reject,
    };
    this.send(r);
  }

  private pollVotes(): void {
    const voters = this.confs.current().voters;
    const q = quorumSize(voters.length);
    let granted = 0;
    let rejected = 0;
    for (const v of voters) {
      const vote = this.votes.get(v);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    if (granted >= q) {
      if (this.role === 'pre_candidate') this.becomeCandidate(false);
      else this.becomeLeader();
    } else if (voters.length - rejected < q) {
      this.becomeFollower(this.term, null);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'app':
      case 'heartbeat':
      case 'snap':
        // Someone won this term.
        this.becomeFollower(this.term, m.from);
        this.stepFollower(m);
        return;
      case 'pre_vote_resp':
        if (this.role !== 'pre_candidate') return;
        if (m.reject ? m.term !== this.term : m.term !== this.term + 1) return;
        this.votes.set(m.from, !m.reject);
        this.pollVotes();
        return;
      case 'vote_resp':
        if (this.role !== 'candidate') return;
        this.votes.set(m.from, !m.reject);
        this.pollVotes();
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------------------
  // Follower

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        return;
      case 'timeout_now':
        this.hup(true);
        return;
      default:
        return;
    }
  }

  private handleAppend(m: AppendMessage): void {
    const log = this.log;
    // (Bug switch: trust the leader's commit index up to our own last entry, before the append proved
    // anything about the entries there.)
    if (this.bugs.follower_commit_past_new) log.commitTo(Math.min(m.commit, log.lastIndex()));
    if (m.log_index < log.committed) {
      // Everything up to our commit matches the leader's log; let it skip ahead.
      this.sendAppendResponse(m.from, log.committed, log.term(log.committed)!, false, 0, 0);
      return;
    }
    if (log.matchTerm(m.log_index, m.log_term)) {
      const lastNew = m.log_index + m.entries.length;
      const conflict = log.findConflict(m.entries);
      if (conflict > 0) {
        assert(conflict > log.committed, `conflict at ${conflict} within committed log (${log.committed})`);
        this.appendToLog(m.entries.slice(conflict - m.log_index - 1));
      }
      // Only the entries this append proved shared may commit: later ones may still be an old leader's.
      log.commitTo(Math.min(m.commit, lastNew));
      this.sendAppendResponse(m.from, lastNew, log.term(lastNew)!, false, 0, 0);
      return;
    }
    let hintIndex: number;
    let hintTerm: number;
    if (m.log_index > log.lastIndex()) {
      hintIndex = log.lastIndex() + 1;
      hintTerm = 0;
    } else {
      hintTerm = log.term(m.log_index)!;
      hintIndex = log.firstIndexOfTermAt(m.log_index, log.committed + 1);
    }
    this.sendAppendResponse(m.from, m.log_index, 0, true, hintIndex, hintTerm);
  }

  private sendAppendResponse(
    to: ReplicaId,
    index: number,
    logTerm: number,
    reject: boolean,
    hintIndex: number,
    hintTerm: number,
  ): void {
    const r: AppendResponseMessage = {
      type: 'app_resp',
      group: this.group,
      from: this.id,
      to,
      term: this.term,
      index,
      log_term: logTerm,
      reject,
      hint_index: hintIndex,
      hint_term: hintTerm,
    };
    this.send(r);
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends min(match, commit), so this never commits past what we hold.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const r: HeartbeatResponseMessage = {
      type: 'heartbeat_resp',
      group: this.group,
      from: this.id,
      to: m.from,
      term: this.term,
      ctx: m.ctx,
    };
    this.send(r);
  }

  private handleSnapshotChunk(m: SnapshotChunkMessage): void {
    const log = this.log;
    if (m.meta.index <= log.committed) {
      // Older than what we already have committed: nothing to install.
      this.incoming.reset();
      this.sendAppendResponse(m.from, log.committed, log.term(log.committed)!, false, 0, 0);
      return;
    }
    const outcome = this.incoming.receive(m);
    switch (outcome.kind) {
      case 'ignore':
        return;
      case 'progress':
        this.sendSnapshotResponse(m, outcome.offset, false);
        return;
      case 'reject':
        this.sendSnapshotResponse(m, outcome.offset, true);
        return;
      case 'complete':
        this.restore(outcome.snapshot);
        // Held until the snapshot is durable (see send()).
        this.sendAppendResponse(m.from, m.meta.index, m.meta.term, false, 0, 0);
        return;
    }
  }

  private sendSnapshotResponse(m: SnapshotChunkMessage, offset: number, reject: boolean): void {
    const r: SnapshotResponseMessage = {
      type: 'snap_resp',
      group: this.group,
      from: this.id,
      to: m.from,
      term: this.term,
      index: m.meta.index,
      snap_term: m.meta.term,
      offset,
      reject,
    };
    this.send(r);
  }

  private restore(snapshot: Snapshot): void {
    const { index, term, conf } = snapshot.meta;
    if (index <= this.log.committed) return;
    if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: just learn that it is committed.
      this.log.commitTo(index);
      return;
    }
    this.log.restore(snapshot);
    this.confs.reset(conf, index);
    this.stable = Math.min(this.stable, index);
    this.addBarrier(index + 1);
    this.pendingSnapshotWrite = { snapshot, mode: 'install' };
  }

  // ---------------------------------------------------------------------------
  // Leader

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
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
        this.handleSnapshotResponse(m, pr);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    const log = this.log;
    if (m.reject) {
      let hint: number;
      if (m.hint_term === 0) {
        hint = m.hint_index;
      } else {
        // Skip the follower's whole run of the conflicting term unless we hold that term too.
        const i = log.lastIndexWithTermAtMost(m.index, m.hint_term);
        hint = log.term(i) === m.hint_term ? i + 1 : m.hint_index;
      }
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.maybeSendAppend(m.from, pr, true);
      }
      return;
    }
    // Match by (term, index): an acknowledgement for a different entry at this index says nothing.
    if (m.index > log.offset && !log.matchTerm(m.index, m.log_term) && !this.bugs.ack_matched_by_index)
      return;
    const wasPaused = pr.paused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) pr.becomeProbe();
    else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
    this.maybeCommit();
    if (wasPaused || pr.next <= log.lastIndex()) {
      for (let i = 0; i <= this.cfg.max_inflight_msgs && this.maybeSendAppend(m.from, pr, false); i++);
    }
    if (m.from === this.leadTransferee && pr.match === log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage, pr: Progress): void {
    pr.probeSent = false;
    const last = this.log.lastIndex();
    if (pr.state === 'replicate' && pr.match < last && pr.inflights.count > 0) {
      // Appends in flight but no progress for a while: they were probably lost; probe again.
      if (++pr.stalledHeartbeats >= 3) pr.becomeProbe();
    } else if (pr.state === 'snapshot') {
      if (++pr.stalledHeartbeats >= 3) {
        pr.stalledHeartbeats = 0;
        pr.snapshotSent = pr.snapshotAcked;
        pr.snapshotDoneSent = false;
        this.sendSnapshotChunks(m.from, pr);
      }
    }
    if (pr.match < last) this.maybeSendAppend(m.from, pr, true);
    if (m.ctx > 0) {
      for (const r of this.reads.ack(m.from, m.ctx, this.id, this.confs.current().voters)) {
        this.deliverRead(r.ctx, r.from, r.index);
      }
    }
  }

  private handleSnapshotResponse(m: SnapshotResponseMessage, pr: Progress): void {
    if (pr.state !== 'snapshot' || m.index !== pr.snapshotIndex || m.snap_term !== pr.snapshotTerm) return;
    if (m.reject) {
      // The follower holds `offset` bytes (0 if it restarted): resume from there, once per gap.
      if (m.offset === pr.snapshotRewind) return;
      pr.snapshotRewind = m.offset;
      pr.snapshotAcked = m.offset;
      pr.snapshotSent = m.offset;
      pr.snapshotDoneSent = false;
    } else {
      if (m.offset <= pr.snapshotAcked) return;
      pr.snapshotAcked = m.offset;
      pr.snapshotRewind = -1;
      pr.stalledHeartbeats = 0;
      if (pr.snapshotSent < pr.snapshotAcked) pr.snapshotSent = pr.snapshotAcked;
    }
    this.sendSnapshotChunks(m.from, pr);
  }

  private newProgress(next: number, recentActive: boolean): Progress {
    return new Progress(next, this.cfg.max_inflight_msgs, this.cfg.max_inflight_bytes, recentActive);
  }

  private members(): ReplicaId[] {
    const c = this.confs.current();
    return [...c.voters, ...c.learners];
  }

  /** Keeps one progress per other member after a configuration change. */
  private syncProgress(): void {
    if (this.role !== 'leader') return;
    const conf = this.confs.current();
    for (const id of [...this.progress.keys()]) {
      if (isMember(conf, id)) continue;
      this.progress.delete(id);
      this.removedThisTerm.add(id);
    }
    // A member added now counts as active, or check-quorum could depose us before it ever answered.
    for (const id of this.members()) {
      if (id !== this.id && !this.progress.has(id))
        this.progress.set(id, this.newProgress(this.log.lastIndex(), true));
    }
    if (this.leadTransferee !== null && !isVoter(conf, this.leadTransferee)) this.leadTransferee = null;
    // A smaller quorum may already confirm pending reads or commit entries.
    for (const r of this.reads.confirmed(this.id, conf.voters)) this.deliverRead(r.ctx, r.from, r.index);
  }

  private refuseProposal(bytes: number, largestEntry: number): RaftError | null {
    if (this.role !== 'leader') return raftError('not_leader', 'not the leader', this.lead);
    if (this.leadTransferee !== null)
      return raftError('transferring', 'leadership transfer in progress', this.lead);
    if (largestEntry > this.cfg.max_entry_bytes)
      return raftError('entry_too_large', 'entry exceeds max_entry_bytes');
    // One batch larger than the whole budget is still accepted when nothing else is outstanding.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.cfg.max_uncommitted_bytes) {
      return raftError('uncommitted_limit', 'too many uncommitted bytes; followers are behind');
    }
    return null;
  }

  private appendAsLeader(type: EntryType, data: Uint8Array): Entry {
    const e: Entry = { index: this.log.lastIndex() + 1, term: this.term, type, data };
    this.appendToLog([e]);
    this.uncommittedBytes += data.length;
    this.appendsPending = true;
    if (this.bugs.ack_before_durable) this.maybeCommit();
    return e;
  }

  /** Appends to the log, keeping the configuration history and durability barriers in step. */
  private appendToLog(entries: readonly Entry[]): void {
    const cut = this.log.append(entries);
    if (cut > 0) {
      this.confs.truncateFrom(cut);
      this.stable = Math.min(this.stable, cut - 1);
      this.addBarrier(cut);
    }
    for (const e of entries) this.trackConfEntry(e);
  }

  private trackConfEntry(e: Entry): void {
    if (e.type !== 'conf_change') return;
    const next = applyConfChange(this.confs.current(), decodeConfChange(e.data));
    assert(typeof next !== 'string', `conf change at ${e.index} does not apply: ${String(next)}`);
    this.confs.push(e.index, next);
    this.syncProgress();
  }

  private addBarrier(from: number): void {
    const last = this.barriers[this.barriers.length - 1];
    if (last && last.seq === this.nextSeq) last.from = Math.min(last.from, from);
    else this.barriers.push({ seq: this.nextSeq, from });
  }

  private selfMatch(): number {
    return this.bugs.ack_before_durable ? this.log.lastIndex() : this.stable;
  }

  private maybeCommit(): void {
    const voters = this.confs.current().voters;
    if (voters.length === 0) return;
    const matches: number[] = [];
    for (const v of voters)
      matches.push(v === this.id ? this.selfMatch() : (this.progress.get(v)?.match ?? 0));
    matches.sort((a, b) => b - a);
    const index = this.bugs.commit_without_quorum
      ? this.selfMatch()
      : matches[quorumSize(voters.length) - 1]!;
    if (index <= this.log.committed) return;
    // Only entries of the current term commit by counting replicas (Raft paper, Figure 8).
    if (!this.bugs.commit_old_term && this.log.term(index) !== this.term) return;
    const before = this.log.committed;
    this.log.commitTo(index);
    this.onLeaderCommit(before);
  }

  private onLeaderCommit(before: number): void {
    const log = this.log;
    for (let i = Math.max(before + 1, this.termStartIndex); i <= log.committed; i++) {
      this.uncommittedBytes -= log.entry(i)?.data.length ?? 0;
    }
    if (this.uncommittedBytes < 0) this.uncommittedBytes = 0;
    this.commitPending = true;
    if (before < this.termStartIndex && log.committed >= this.termStartIndex) {
      for (const r of this.reads.takeDeferred()) this.leaderRead(r.ctx, r.from);
    }
    const conf = this.confs.current();
    if (!isVoter(conf, this.id) && log.committed >= this.confs.currentIndex()) {
      // Our removal is committed: hand leadership to the most up-to-date voter and step down.
      let best: ReplicaId | null = null;
      let bestMatch = -1;
      for (const v of conf.voters) {
        const m = this.progress.get(v)?.match ?? 0;
        if (m > bestMatch) {
          best = v;
          bestMatch = m;
        }
      }
      if (best !== null && bestMatch === log.lastIndex()) this.sendTimeoutNow(best);
      this.becomeFollower(this.term, null);
    }
  }

  /** Sends entries (or a snapshot) to one follower if its flow control allows. Returns whether it sent. */
  private maybeSendAppend(to: ReplicaId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.paused()) return false;
    const log = this.log;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) {
      // The entries it needs were compacted away.
      pr.becomeSnapshot(log.snapshot.meta.index, log.snapshot.meta.term);
      this.sendSnapshotChunks(to, pr);
      return true;
    }
    const entries =
      pr.next <= log.lastIndex()
        ? log.slice(pr.next, log.lastIndex(), this.cfg.max_append_bytes, this.cfg.max_append_entries)
        : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    const m: AppendMessage = {
      type: 'app',
      group: this.group,
      from: this.id,
      to,
      term: this.term,
      log_index: prevIndex,
      log_term: prevTerm,
      entries,
      commit: log.committed,
    };
    this.send(m);
    if (entries.length > 0 && pr.state === 'replicate') {
      let bytes = 0;
      for (const e of entries) bytes += e.data.length;
      const last = entries[entries.length - 1]!.index;
      pr.next = last + 1;
      pr.inflights.add(last, bytes);
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
    return true;
  }

  private sendSnapshotChunks(to: ReplicaId, pr: Progress): void {
    const snap = this.log.snapshot;
    if (snap.meta.index !== pr.snapshotIndex || snap.meta.term !== pr.snapshotTerm) {
      // We compacted again since the transfer began: send the newer snapshot instead.
      pr.becomeSnapshot(snap.meta.index, snap.meta.term);
    }
    const total = snap.data.length;
    const chunk = this.cfg.snapshot_chunk_bytes;
    const window = Math.max(
      1,
      Math.min(this.cfg.max_inflight_msgs, Math.floor(this.cfg.max_inflight_bytes / chunk)),
    );
    for (let n = 0; n < window; n++) {
      if (pr.snapshotDoneSent || pr.snapshotSent - pr.snapshotAcked >= window * chunk) break;
      const offset = pr.snapshotSent;
      const end = Math.min(total, offset + chunk);
      const m: SnapshotChunkMessage = {
        type: 'snap',
        group: this.group,
        from: this.id,
        to,
        term: this.term,
        meta: snap.meta,
        offset,
        total_bytes: total,
        data: snap.data.subarray(offset, end),
        done: end === total,
      };
      this.send(m);
      pr.snapshotSent = end;
      if (end === total) pr.snapshotDoneSent = true;
    }
  }

  private broadcastHeartbeat(ctx: number): void {
    for (const [to, pr] of this.progress) {
      const m: HeartbeatMessage = {
        type: 'heartbeat',
        group: this.group,
        from: this.id,
        to,
        term: this.term,
        // A follower's log may differ past `match`: a larger commit could commit an old leader's entries there.
        commit: this.bugs.heartbeat_full_commit ? this.log.committed : Math.min(pr.match, this.log.committed),
        ctx,
      };
      this.send(m);
    }
  }

  private sendTimeoutNow(to: ReplicaId): void {
    this.send({ type: 'timeout_now', group: this.group, from: this.id, to, term: this.term });
  }

  private stepReadIndex(from: ReplicaId, ctx: string): void {
    if (this.role !== 'leader' || this.reads.full()) return;
    this.leaderRead(ctx, from);
  }

  private leaderRead(ctx: string, from: ReplicaId): void {
    if (this.log.committed < this.termStartIndex && !this.bugs.read_before_term_commit) {
      // Our commit index may lag the previous leader's until an entry of this term commits.
      this.reads.defer(ctx, from);
      return;
    }
    const voters = this.confs.current().voters;
    if ((voters.length === 1 && voters[0] === this.id) || this.bugs.read_without_quorum) {
      this.deliverRead(ctx, from, this.log.committed);
      return;
    }
    this.reads.addConfirm(ctx, from, this.log.committed);
  }

  private deliverRead(ctx: string, from: ReplicaId, index: number): void {
    if (from === this.id) {
      this.reads.waitApply({ ctx, index });
    } else {
      this.send({ type: 'read_index_resp', group: this.group, from: this.id, to: from, term: 0, ctx, index });
    }
  }

  /** Sends what this turn accumulated: one append per follower, one heartbeat round for reads. */
  private flush(): void {
    if (this.role !== 'leader') return;
    const round = this.reads.roundToSend();
    if (round > 0) this.broadcastHeartbeat(round);
    if (this.appendsPending || this.commitPending) {
      const sendIfEmpty = this.commitPending;
      this.appendsPending = false;
      this.commitPending = false;
      for (const [to, pr] of this.progress) this.maybeSendAppend(to, pr, sendIfEmpty);
    }
  }

  // ---------------------------------------------------------------------------
  // Durability

  /**
   * Sends now, or holds until every write issued so far is durable when the
   * message promises something about durable state: a granted vote, an append
   * acknowledgement, or any message at a term not yet on disk.
   */
  private send(m: Message): void {
    if (!this.needsDurability(m)) {
      this.msgs.push(m);
      return;
    }
    let seq: number;
    if (this.pendingWrite()) seq = this.nextSeq;
    else if (this.lastEmittedSeq > this.lastAckedSeq) seq = this.lastEmittedSeq;
    else {
      this.msgs.push(m);
      return;
    }
    // Dropping a held message is as safe as losing it on the network.
    if (this.held.length >= this.cfg.max_held_msgs) return;
    this.held.push({ seq, msg: m });
  }

  private needsDurability(m: Message): boolean {
    switch (m.type) {
      case 'pre_vote':
      case 'pre_vote_resp':
      case 'read_index':
      case 'read_index_resp':
        return false;
      case 'vote_resp':
        if (this.bugs.vote_not_persisted) return false;
        if (!m.reject) return true;
        break;
      case 'app_resp':
        if (!m.reject && !this.bugs.ack_before_durable) return true;
        break;
      default:
        break;
    }
    return m.term > this.durableTerm;
  }

  private pendingWrite(): boolean {
    return this.pendingSnapshotWrite !== null || this.log.hasUnstable() || this.hardStateChanged();
  }

  private persistedHardState(): HardState {
    return {
      term: this.term,
      vote: this.bugs.vote_not_persisted ? null : this.vote,
      commit: this.log.committed,
    };
  }

  private hardStateChanged(): boolean {
    const h = this.emittedHard;
    const vote = this.bugs.vote_not_persisted ? null : this.vote;
    return h.term !== this.term || h.vote !== vote || h.commit !== this.log.committed;
  }

  private softState(): SoftState {
    return { lead: this.lead, role: this.role, term: this.term };
  }

  private softStateChanged(): boolean {
    const s = this.emittedSoft;
    return s.lead !== this.lead || s.role !== this.role || s.term !== this.term;
  }

  private applyLimit(): number {
    if (this.bugs.apply_uncommitted) return this.log.lastIndex();
    // Entries are applied only once committed and durable here, so a restart never un-applies one.
    return Math.min(this.log.committed, this.stable);
  }

  private takeCommitted(): Entry[] {
    const log = this.log;
    const limit = this.applyLimit();
    if (log.applied >= limit) return [];
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = log.applied + 1; i <= limit; i++) {
      const e = log.entry(i);
      if (e === undefined) break;
      bytes += e.data.length;
      if (out.length > 0 && bytes > this.cfg.max_apply_bytes) break;
      out.push(e);
    }
    if (out.length > 0) log.applied = out[out.length - 1]!.index;
    return out;
  }
}
