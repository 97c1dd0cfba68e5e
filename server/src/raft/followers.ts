import type { BugSwitches } from './bugs.js';
import type { RaftConfig } from './config.js';
import type { Outbox } from './outbox.js';
import { Progress } from './progress.js';
import type { RaftLog } from './raft-log.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  GroupId,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  ProgressStatus,
  ReplicaId,
  SnapshotChunkMessage,
  SnapshotResponseMessage,
} from './types.js';

export interface FollowersOptions {
  readonly leader: ReplicaId;
  readonly group: GroupId;
  readonly cfg: RaftConfig;
  readonly bugs: BugSwitches;
  readonly log: RaftLog;
  /** The term the leader leads. */
  readonly term: number;
  /** Where every message goes (held there while the write it vouches for is in flight). */
  readonly outbox: Outbox;
}

/**
 * A leader's side of replication: its view of every other member (a
 * `Progress` each) and the appends, snapshot chunks and heartbeats it sends
 * them, paced by their answers. What the answers mean for the group (commit,
 * reads, transfers) is the replica's business.
 */
export class Followers {
  private readonly progress = new Map<ReplicaId, Progress>();

  constructor(private readonly o: FollowersOptions) {}

  get(id: ReplicaId): Progress | undefined {
    return this.progress.get(id);
  }

  has(id: ReplicaId): boolean {
    return this.progress.has(id);
  }

  ids(): ReplicaId[] {
    return [...this.progress.keys()];
  }

  track(id: ReplicaId, next: number, recentActive: boolean): void {
    this.progress.set(
      id,
      new Progress(next, this.o.cfg.max_inflight_msgs, this.o.cfg.max_inflight_bytes, recentActive),
    );
  }

  forget(id: ReplicaId): void {
    this.progress.delete(id);
  }

  /** Check-quorum starts a new period: each follower must be heard from again. */
  markInactive(): void {
    for (const pr of this.progress.values()) pr.recentActive = false;
  }

  status(): Record<ReplicaId, ProgressStatus> {
    const out: Record<ReplicaId, ProgressStatus> = {};
    for (const [id, pr] of this.progress) {
      out[id] = { match: pr.match, next: pr.next, state: pr.state, recent_active: pr.recentActive };
    }
    return out;
  }

  /** One append to every follower whose flow control allows it (`sendIfEmpty`: also without entries, for the commit index). */
  sendAppends(sendIfEmpty: boolean): void {
    for (const [to, pr] of this.progress) this.sendAppend(to, pr, sendIfEmpty);
  }

  /** Sends entries (or a snapshot) to one follower if its flow control allows. Returns whether it sent. */
  sendAppend(to: ReplicaId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.paused()) return false;
    const { log, cfg } = this.o;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) {
      // The entries it needs were compacted away.
      pr.becomeSnapshot(log.snapshot.meta.index, log.snapshot.meta.term);
      this.sendSnapshot(to, pr);
      return true;
    }
    const entries =
      pr.next <= log.lastIndex()
        ? log.slice(pr.next, log.lastIndex(), cfg.max_append_bytes, cfg.max_append_entries)
        : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    const m: AppendMessage = {
      type: 'app',
      group: this.o.group,
      from: this.o.leader,
      to,
      term: this.o.term,
      log_index: prevIndex,
      log_term: prevTerm,
      entries,
      commit: log.committed,
    };
    this.o.outbox.send(m);
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

  /** Streams the leader's snapshot to a follower, a window of chunks ahead of what it acknowledged. */
  sendSnapshot(to: ReplicaId, pr: Progress): void {
    const { log, cfg } = this.o;
    const snap = log.snapshot;
    if (snap.meta.index !== pr.snapshotIndex || snap.meta.term !== pr.snapshotTerm) {
      // We compacted again since the transfer began: send the newer snapshot instead.
      pr.becomeSnapshot(snap.meta.index, snap.meta.term);
    }
    const total = snap.data.length;
    const chunk = cfg.snapshot_chunk_bytes;
    const window = Math.max(1, Math.min(cfg.max_inflight_msgs, Math.floor(cfg.max_inflight_bytes / chunk)));
    for (let n = 0; n < window; n++) {
      if (pr.snapshotDoneSent || pr.snapshotSent - pr.snapshotAcked >= window * chunk) break;
      const offset = pr.snapshotSent;
      const end = Math.min(total, offset + chunk);
      const m: SnapshotChunkMessage = {
        type: 'snap',
        group: this.o.group,
        from: this.o.leader,
        to,
        term: this.o.term,
        meta: snap.meta,
        offset,
        total_bytes: total,
        data: snap.data.subarray(offset, end),
        done: end === total,
      };
      this.o.outbox.send(m);
      pr.snapshotSent = end;
      if (end === total) pr.snapshotDoneSent = true;
    }
  }

  broadcastHeartbeat(ctx: number): void {
    const { log, bugs } = this.o;
    for (const [to, pr] of this.progress) {
      const m: HeartbeatMessage = {
        type: 'heartbeat',
        group: this.o.group,
        from: this.o.leader,
        to,
        term: this.o.term,
        // A follower's log may differ past `match`: a larger commit could commit an old leader's entries there.
        commit: bugs.heartbeat_full_commit ? log.committed : Math.min(pr.match, log.committed),
        ctx,
      };
      this.o.outbox.send(m);
    }
  }

  /** The follower's log does not match at `m.index`: back off to its hint and probe again. */
  appendRejected(m: AppendResponseMessage, pr: Progress): void {
    const { log } = this.o;
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
      this.sendAppend(m.from, pr, true);
    }
  }

  /** The follower holds our log up to `m.index`. Returns whether that is news (its match moved). */
  appendAccepted(m: AppendResponseMessage, pr: Progress): boolean {
    const { log, bugs } = this.o;
    // Match by (term, index): an acknowledgement for a different entry at this index says nothing.
    if (m.index > log.offset && !log.matchTerm(m.index, m.log_term) && !bugs.ack_matched_by_index)
      return false;
    if (!pr.maybeUpdate(m.index)) return false;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) pr.becomeProbe();
    else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
    return true;
  }

  /** After an accepted append: keep the follower's window full (`wasPaused`: it was full before). */
  sendMore(to: ReplicaId, pr: Progress, wasPaused: boolean): void {
    if (wasPaused || pr.next <= this.o.log.lastIndex()) {
      for (let i = 0; i <= this.o.cfg.max_inflight_msgs && this.sendAppend(to, pr, false); i++);
    }
  }

  /** A heartbeat answered: the follower is alive; resend what looks lost. */
  heartbeatAnswered(m: HeartbeatResponseMessage, pr: Progress): void {
    pr.probeSent = false;
    const last = this.o.log.lastIndex();
    if (pr.state === 'replicate' && pr.match < last && pr.inflights.count > 0) {
      // Appends in flight but no progress for a while: they were probably lost; probe again.
      if (++pr.stalledHeartbeats >= 3) pr.becomeProbe();
    } else if (pr.state === 'snapshot') {
      if (++pr.stalledHeartbeats >= 3) {
        pr.stalledHeartbeats = 0;
        pr.snapshotSent = pr.snapshotAcked;
        pr.snapshotDoneSent = false;
        this.sendSnapshot(m.from, pr);
      }
    }
    if (pr.match < last) this.sendAppend(m.from, pr, true);
  }

  snapshotAnswered(m: SnapshotResponseMessage, pr: Progress): void {
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
    this.sendSnapshot(m.from, pr);
  }
}
