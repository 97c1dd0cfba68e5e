import type { BugSwitches } from './bugs.js';
import { assert } from './errors.js';
import type { Outbox } from './outbox.js';
import type { RaftLog } from './raft-log.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  Checksum,
  Entry,
  GroupId,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  ReplicaId,
  Snapshot,
  SnapshotChunkMessage,
  SnapshotResponseMessage,
} from './types.js';

export interface FollowerLogOptions {
  readonly id: ReplicaId;
  readonly group: GroupId;
  readonly log: RaftLog;
  readonly bugs: BugSwitches;
  readonly maxSnapshotBytes: number;
  readonly checksum: Checksum;
  /** The follower's current term. */
  readonly term: () => number;
  /** Where every message goes (held there while the write it vouches for is in flight). */
  readonly outbox: Outbox;
  /** Appends the leader's entries from the first conflict on (the replica keeps its configurations in step). */
  readonly appendToLog: (entries: readonly Entry[]) => void;
  /** A snapshot arrived whole and verified: replace the log with it. */
  readonly install: (snapshot: Snapshot) => void;
}

/**
 * A follower's side of replication: what it does with its leader's appends,
 * heartbeats and snapshot chunks, and what it answers. Every answer that
 * vouches for the log goes through the replica's outbox, so it leaves only
 * once the write behind it is durable.
 */
export class FollowerLog {
  private readonly incoming: SnapshotReceiver;

  constructor(private readonly o: FollowerLogOptions) {
    this.incoming = new SnapshotReceiver(o.maxSnapshotBytes, o.checksum);
  }

  append(m: AppendMessage): void {
    const { log, bugs } = this.o;
    // (Bug switch: trust the leader's commit index up to our own last entry, before the append proved
    // anything about the entries there.)
    if (bugs.follower_commit_past_new) log.commitTo(Math.min(m.commit, log.lastIndex()));
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
        this.o.appendToLog(m.entries.slice(conflict - m.log_index - 1));
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
      group: this.o.group,
      from: this.o.id,
      to,
      term: this.o.term(),
      index,
      log_term: logTerm,
      reject,
      hint_index: hintIndex,
      hint_term: hintTerm,
    };
    this.o.outbox.send(r);
  }

  heartbeat(m: HeartbeatMessage): void {
    const { log } = this.o;
    // The leader sends min(match, commit), so this never commits past what we hold.
    log.commitTo(Math.min(m.commit, log.lastIndex()));
    const r: HeartbeatResponseMessage = {
      type: 'heartbeat_resp',
      group: this.o.group,
      from: this.o.id,
      to: m.from,
      term: this.o.term(),
      ctx: m.ctx,
    };
    this.o.outbox.send(r);
  }

  snapshotChunk(m: SnapshotChunkMessage): void {
    const { log } = this.o;
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
        this.o.install(outcome.snapshot);
        // Held until the snapshot is durable (see send()).
        this.sendAppendResponse(m.from, m.meta.index, m.meta.term, false, 0, 0);
        return;
    }
  }

  private sendSnapshotResponse(m: SnapshotChunkMessage, offset: number, reject: boolean): void {
    const r: SnapshotResponseMessage = {
      type: 'snap_resp',
      group: this.o.group,
      from: this.o.id,
      to: m.from,
      term: this.o.term(),
      index: m.meta.index,
      snap_term: m.meta.term,
      offset,
      reject,
    };
    this.o.outbox.send(r);
  }
}
