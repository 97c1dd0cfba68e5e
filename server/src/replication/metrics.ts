import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Raft health series (docs/metrics.md): leader changes, commit latency, log size, storage. */
export class RaftMetrics {
  private readonly leaderChanges: Counter;
  private readonly commitLatency: Histogram;
  private readonly proposalFailures: Counter<'reason'>;
  private readonly storageWrites: Histogram;
  private readonly storageWriteGroups: Histogram;
  private readonly snapshots: Counter;
  private readonly snapshotBytes: Histogram;
  private readonly snapshotTransfers: Counter<'direction'>;
  private readonly elections: Counter;

  constructor(
    registry: Registry,
    read: { logEntries: () => number; groupsLed: () => number; groups: () => number },
  ) {
    const registers = [registry];
    this.leaderChanges = new Counter({
      name: 'fastpaca_raft_leader_changes_total',
      help: 'Times a local group learned of a new leader.',
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'fastpaca_raft_commit_latency_seconds',
      help: 'From proposal to applied on the proposing node (includes the quorum fsync).',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.proposalFailures = new Counter({
      name: 'fastpaca_raft_proposals_failed_total',
      help: 'Proposals that did not commit, by reason (timeout, overwritten).',
      labelNames: ['reason'],
      registers,
    });
    this.storageWrites = new Histogram({
      name: 'fastpaca_raft_storage_write_seconds',
      help: 'Duration of one durable storage write (one fsync for every group of a turn).',
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers,
    });
    this.storageWriteGroups = new Histogram({
      name: 'fastpaca_raft_storage_write_groups',
      help: 'Groups whose state one durable write carried (group commit batch size).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.snapshots = new Counter({
      name: 'fastpaca_raft_snapshots_total',
      help: 'State machine snapshots taken to compact the log.',
      registers,
    });
    this.snapshotBytes = new Histogram({
      name: 'fastpaca_raft_snapshot_bytes',
      help: 'Size of state machine snapshots.',
      buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
      registers,
    });
    this.snapshotTransfers = new Counter({
      name: 'fastpaca_raft_snapshot_transfers_total',
      help: 'Snapshots sent whole to a lagging replica (sent) and installed from a leader (received).',
      labelNames: ['direction'],
      registers,
    });
    this.elections = new Counter({
      name: 'fastpaca_raft_elections_total',
      help: 'Elections a local replica started (after winning its pre-vote).',
      registers,
    });
    new Gauge({
      name: 'fastpaca_raft_log_entries',
      help: 'Log entries held since the last snapshot, summed over local groups.',
      registers,
      collect() {
        this.set(read.logEntries());
      },
    });
    new Gauge({
      name: 'fastpaca_raft_groups_leading',
      help: 'Local groups this node leads.',
      registers,
      collect() {
        this.set(read.groupsLed());
      },
    });
    new Gauge({
      name: 'fastpaca_raft_groups',
      help: 'Groups hosted on this node.',
      registers,
      collect() {
        this.set(read.groups());
      },
    });
  }

  leaderChanged(): void {
    this.leaderChanges.inc();
  }
  committed(seconds: number): void {
    this.commitLatency.observe(seconds);
  }
  proposalFailed(reason: string): void {
    this.proposalFailures.inc({ reason });
  }
  storageWrite(ms: number, groups: number): void {
    this.storageWrites.observe(ms / 1000);
    this.storageWriteGroups.observe(groups);
  }
  snapshotTransferred(direction: 'sent' | 'received'): void {
    this.snapshotTransfers.inc({ direction });
  }
  electionStarted(): void {
    this.elections.inc();
  }
  snapshotTaken(bytes: number): void {
    this.snapshots.inc();
    this.snapshotBytes.observe(bytes);
  }
}
