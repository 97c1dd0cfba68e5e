import { type BugSwitches, isBugSwitches, NO_BUGS } from './bugs.js';
import { applyConfChange, ConfHistory, decodeConfChange, EMPTY_CONF, isVoter } from './conf.js';
import type { RaftConfig } from './config.js';
import { grantsVote, VoteTally, voteRequests, voteResponse } from './election.js';
import { assert, fail, ok, type RaftError, type Result, raftError } from './errors.js';
import { FollowerLog } from './follower-log.js';
import { Leadership } from './leadership.js';
import { Outbox } from './outbox.js';
import type { Prng } from './prng.js';
import { RaftLog } from './raft-log.js';
import { ReadIndexTracker } from './read-index.js';
import { ReadyBuilder } from './ready-builder.js';
import { EMPTY_DATA, type ReplicaOptions } from './replica-init.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  GroupId,
  Message,
  PersistAck,
  Proposed,
  RaftStatus,
  Ready,
  ReplicaId,
  Role,
  Snapshot,
  VoteMessage,
} from './types.js';

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
  private readonly votes = new VoteTally();
  private readonly reads: ReadIndexTracker;
  private readonly followerLog: FollowerLog;

  private readonly outbox: Outbox;
  /** While this replica leads. */
  private leadership: Leadership | null = null;

  private readonly readyBuilder: ReadyBuilder;

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

    const stored = options.storage ?? { hard_state: null, snapshot: null, entries: [] };
    const snapshot = stored.snapshot ?? {
      meta: { index: 0, term: 0, conf: EMPTY_CONF, checksum: 0 },
      data: EMPTY_DATA,
    };
    const hard = stored.hard_state ?? { term: 0, vote: null, commit: 0 };
    const applied = options.applied ?? snapshot.meta.index;
    this.log = new RaftLog(snapshot, stored.entries, hard.commit, applied);
    this.outbox = new Outbox({
      stable: this.log.lastIndex(),
      durableTerm: hard.term,
      maxHeld: this.cfg.max_held_msgs,
      bugs: this.bugs,
      writePending: () => this.readyBuilder.writePending(this),
    });
    this.followerLog = new FollowerLog({
      id: this.id,
      group: this.group,
      log: this.log,
      bugs: this.bugs,
      maxSnapshotBytes: this.cfg.max_snapshot_bytes,
      checksum: options.checksum,
      term: () => this.term,
      outbox: this.outbox,
      appendToLog: (entries) => this.appendToLog(entries),
      install: (snap) => this.restore(snap),
    });
    this.confs = new ConfHistory(snapshot.meta.conf, this.log.offset);
    for (const e of this.log.entries) this.trackConfEntry(e);

    this.term = hard.term;
    this.vote = hard.vote;
    if (options.min_term !== undefined && options.min_term > this.term) {
      // Not durable yet: the first ready() persists it, and nothing is sent at this term before that.
      this.term = options.min_term;
      this.vote = null;
    }
    this.randomizedElectionTicks = this.randomElectionTicks();
    this.readyBuilder = new ReadyBuilder({
      group: this.group,
      log: this.log,
      outbox: this.outbox,
      reads: this.reads,
      bugs: this.bugs,
      maxApplyBytes: this.cfg.max_apply_bytes,
      stored: { term: hard.term, vote: hard.vote, commit: this.log.committed },
      soft: { lead: null, role: 'follower', term: this.term },
    });
  }

  // ---------------------------------------------------------------------------
  // Inputs

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** Multi-group layer only (external heartbeats): send this group's heartbeats now. */
  heartbeat(): void {
    this.leadership?.followers.broadcastHeartbeat(0);
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
      if (this.leadership && !this.reads.full()) this.leadership.read(m.ctx, m.from);
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
        this.send(voteResponse(m, this.id, this.term, true));
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'pre_vote') {
      this.handleVoteRequest(m);
      return;
    }

    switch (this.role) {
      case 'leader':
        this.leadership!.step(m);
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
    const e = this.leadership!.append('normal', data);
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
      const e = this.leadership!.append('normal', d);
      out.push({ index: e.index, term: e.term });
    }
    return ok(out);
  }

  proposeConfChange(change: ConfChange): Result<Proposed> {
    const refused = this.refuseProposal(0, 0);
    if (refused) return fail(refused);
    return this.leadership!.proposeConfChange(change);
  }

  private refuseProposal(bytes: number, largestEntry: number): RaftError | null {
    if (!this.leadership) return raftError('not_leader', 'not the leader', this.lead);
    return this.leadership.refuse(bytes, largestEntry);
  }

  /**
   * Requests a linearizable read. The answer is a `ReadState` with this `ctx` in
   * a later `ready()`, released once the state machine has applied its index.
   * A read that is lost (leader change, dropped message) never answers: the
   * caller times out and retries.
   */
  readIndex(ctx: string): Result<void> {
    if (this.reads.full()) return fail(raftError('read_index_queue_full', 'too many pending reads'));
    if (this.leadership) {
      this.leadership.read(ctx, this.id);
      return ok(undefined);
    }
    if (this.lead === null) return fail(raftError('not_leader', 'no leader known', null));
    this.send({ type: 'read_index', group: this.group, from: this.id, to: this.lead, term: 0, ctx });
    return ok(undefined);
  }

  transferLeader(to: ReplicaId): Result<void> {
    if (!this.leadership) return fail(raftError('not_leader', 'only the leader transfers', this.lead));
    if (to === this.id) return ok(undefined);
    if (!isVoter(this.confs.current(), to))
      return fail(raftError('invalid_transfer', `${to} is not a voter`));
    if (this.leadership.transferee === to) return ok(undefined);
    // The transfer is abandoned when the next election timeout passes.
    this.electionElapsed = 0;
    this.leadership.transfer(to);
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
    this.readyBuilder.snapshotWrite = { snapshot, mode: 'compact' };
    return ok(undefined);
  }

  /**
   * Storage made the write carrying `ack` durable. Acknowledgements arrive in
   * the order the writes were issued; each releases what waited for it.
   */
  persisted(ack: PersistAck): void {
    assert(ack.group === this.group, 'acknowledgement for another group');
    this.outbox.acknowledge(ack, this.log);
    if (this.leadership) {
      this.leadership.maybeCommit();
    } else if (
      this.role === 'candidate' &&
      ack.term === this.term &&
      ack.vote === this.id &&
      !this.votes.has(this.id)
    ) {
      // The self-vote counts only once durable: a candidate that crashed before could vote again.
      this.votes.record(this.id, true);
      this.pollVotes();
    }
  }

  // ---------------------------------------------------------------------------
  // Outputs

  hasReady(): boolean {
    return this.readyBuilder.has(this) || (this.leadership?.hasWork() ?? false);
  }

  ready(): Ready {
    this.leadership?.flush();
    return this.readyBuilder.take(this);
  }

  status(): RaftStatus {
    return {
      id: this.id,
      group: this.group,
      role: this.role,
      term: this.term,
      vote: this.vote,
      lead: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      stable: this.outbox.stable,
      first_index: this.log.firstIndex(),
      last_index: this.log.lastIndex(),
      snapshot_index: this.log.snapshot.meta.index,
      conf: this.confs.current(),
      conf_index: this.confs.currentIndex(),
      transferee: this.leadership?.transferee ?? null,
      progress: this.leadership?.followers.status() ?? null,
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
    this.votes.record(this.id, true);
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
    if (this.bugs.vote_not_persisted) this.votes.record(this.id, true);
    this.requestVotes('vote', this.term, transfer);
    this.pollVotes();
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.role = 'leader';
    this.lead = this.id;
    this.resetRoleState();
    this.leadership = new Leadership({
      id: this.id,
      group: this.group,
      term: this.term,
      cfg: this.cfg,
      bugs: this.bugs,
      log: this.log,
      confs: this.confs,
      reads: this.reads,
      outbox: this.outbox,
      appendToLog: (entries) => this.appendToLog(entries),
      stepDown: () => this.becomeFollower(this.term, null),
    });
    this.leadership.start();
  }

  private resetRoleState(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks = this.randomElectionTicks();
    this.votes.clear();
    this.leadership = null;
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
      if (!this.leadership!.endPeriod()) {
        // Check-quorum: no quorum heard from in a whole election timeout.
        this.becomeFollower(this.term, null);
        return;
      }
    }
    if (this.ownHeartbeat && this.heartbeatElapsed >= this.cfg.heartbeat_ticks) {
      this.heartbeatElapsed = 0;
      this.leadership!.followers.broadcastHeartbeat(0);
    }
  }

  // ---------------------------------------------------------------------------
  // Elections

  private requestVotes(type: 'vote' | 'pre_vote', term: number, transfer: boolean): void {
    const round = { type, term, transfer };
    for (const m of voteRequests(this.id, this.group, this.confs.current().voters, round, this.log)) {
      this.send(m);
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    const grant = grantsVote(m, this, this.log, this.bugs);
    if (grant && m.type === 'vote') {
      // Record the vote before sending: the grant is held until the write carrying it is durable.
      this.electionElapsed = 0;
      this.vote = m.from;
    }
    this.send(voteResponse(m, this.id, this.term, !grant));
  }

  private pollVotes(): void {
    const outcome = this.votes.outcome(this.confs.current().voters);
    if (outcome === 'won') {
      if (this.role === 'pre_candidate') this.becomeCandidate(false);
      else this.becomeLeader();
    } else if (outcome === 'lost') {
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
        this.votes.record(m.from, !m.reject);
        this.pollVotes();
        return;
      case 'vote_resp':
        if (this.role !== 'candidate') return;
        this.votes.record(m.from, !m.reject);
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
        this.followerLog.append(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.followerLog.heartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.followerLog.snapshotChunk(m);
        return;
      case 'timeout_now':
        this.hup(true);
        return;
      default:
        return;
    }
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
    this.outbox.cut(index + 1);
    this.readyBuilder.snapshotWrite = { snapshot, mode: 'install' };
  }

  // ---------------------------------------------------------------------------
  // Log

  /** Appends to the log, keeping the configuration history and durability barriers in step. */
  private appendToLog(entries: readonly Entry[]): void {
    const cut = this.log.append(entries);
    if (cut > 0) {
      this.confs.truncateFrom(cut);
      this.outbox.cut(cut);
    }
    for (const e of entries) this.trackConfEntry(e);
  }

  private trackConfEntry(e: Entry): void {
    if (e.type !== 'conf_change') return;
    const next = applyConfChange(this.confs.current(), decodeConfChange(e.data));
    assert(typeof next !== 'string', `conf change at ${e.index} does not apply: ${String(next)}`);
    this.confs.push(e.index, next);
    this.leadership?.syncProgress();
  }

  // ---------------------------------------------------------------------------
  // Sending

  /** Through the outbox: a message that promises something durable waits for the write (see `Outbox`). */
  private send(m: Message): void {
    this.outbox.send(m);
  }
}
