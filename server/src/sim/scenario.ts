import type { RaftConfig } from '../raft/config.js';
import { Prng } from '../raft/prng.js';
import type { DiskFaults } from './sim-disk.js';
import type { NetworkFaults } from './sim-network.js';

/** Everything a run varies, all drawn from the seed (profiles and tests may override parts). */
export interface Scenario {
  nodes: number;
  groups: number;
  /** Groups 0..activeGroups-1 get client load, membership changes and transfers; the rest idle. */
  activeGroups: number;
  replicas: number;
  tickMs: number;
  /** Faults and client load run for this long; then the network heals and everyone restarts. */
  faultMs: number;
  /** After the faults stop, every group must commit a new proposal and converge within this. */
  livenessMs: number;
  network: NetworkFaults;
  /** Per fault round (every faultRoundMs), probability of crashing a node. */
  crashRate: number;
  /** Per fault round, probability that several nodes lose power at once (a majority, or all). */
  powerLossRate: number;
  /**
   * Crashes aimed at the worst moments: right after a node promised something
   * durable (granted a vote, acknowledged entries), and right after it became
   * leader. Probabilities per such event.
   */
  promiseCrashRate: number;
  leaderCrashRate: number;
  /** Per election, probability of cutting the new leader off shortly after (it keeps appending alone). */
  leaderIsolateRate: number;
  /** Per commit advance of a leader, probability of cutting it off right then (messages in flight are lost). */
  commitIsolateRate: number;
  /** Per fault round, probability of a new partition. */
  partitionRate: number;
  /** Per fault round, probability of resetting a connection. */
  connectionResetRate: number;
  faultRoundMs: number;
  downMinMs: number;
  downMaxMs: number;
  /** Storage operation latency range; operations complete in order. */
  diskMinMs: number;
  diskMaxMs: number;
  /** Faults of every node's disk. */
  disk: DiskFaults;
  /** One node's disk also flips bits (as written, with this probability per write; at rest, per fault round). */
  bitFlipWritten: number;
  bitFlipAtRest: number;
  /** Per fault round, probability that a disk fills up for a while (writes fail with ENOSPC). */
  diskFullRate: number;
  /** Per fault round, probability that the flaky node's disk is wiped and it rejoins under its name. */
  wipeRate: number;
  /** Clock rates are drawn from [1 - drift, 1 + drift]; every timer fires up to `jitter` late. */
  clockDrift: number;
  timerJitter: number;
  /** Per fault round, probability that a node's process pauses (GC, a stalled VM) for up to pauseMaxMs. */
  pauseRate: number;
  pauseMaxMs: number;
  /** Per controller round and active group, probability of starting a membership move. */
  moveRate: number;
  /** Per membership proposal, probability that the controller also proposes a conflicting one at once. */
  concurrentChangeRate: number;
  /** Per membership proposal, probability of cutting the proposing leader off right after it. */
  isolateAfterChangeRate: number;
  transferRate: number;
  /** A replica snapshots after applying this many entries past its last snapshot. */
  snapshotEvery: number;
  clients: number;
  keys: number;
  clientThinkMaxMs: number;
  /** Share of client operations that are reads (linearizable reads of registers and of the log). */
  readShare: number;
  raft: Partial<RaftConfig>;
}

/**
 * Named fault profiles. `mixed` (the default) draws sizes and fault
 * intensities per seed. The others each turn one family of faults up:
 * `figure8` the commit rule (the interleaving of the Raft paper's Figure 8),
 * `storage` the disk (torn, short and failed writes, full disks, bit flips,
 * wiped disks), `membership` an adversarial controller (concurrent changes,
 * moves during partitions, reused names), `reads` leader changes under
 * linearizable reads, and `hell` everything at once, clock drift and process
 * pauses included.
 */
export const PROFILES: Readonly<Record<string, (p: Prng, s: Scenario) => Partial<Scenario>>> = {
  mixed: () => ({}),
  figure8: () => ({
    nodes: 3,
    groups: 1,
    activeGroups: 1,
    replicas: 3,
    leaderIsolateRate: 0.5,
    commitIsolateRate: 0.5,
    faultMs: 10_000,
    raft: { max_append_entries: 1 },
  }),
  storage: (p) => ({
    ...someGroups(p),
    crashRate: p.pick([0.2, 0.35]),
    powerLossRate: p.pick([0.02, 0.05]),
    promiseCrashRate: p.pick([0.01, 0.05]),
    disk: {
      shortWrite: p.pick([0.05, 0.3]),
      writeError: p.pick([0.001, 0.005]),
      syncError: p.pick([0.001, 0.01]),
      writtenBitFlip: 0,
    },
    bitFlipWritten: p.pick([0.002, 0.01]),
    bitFlipAtRest: p.pick([0.05, 0.2]),
    diskFullRate: p.pick([0.01, 0.03]),
    wipeRate: p.pick([0.005, 0.02]),
    snapshotEvery: p.pick([4, 12, 40]),
  }),
  membership: (p) => ({
    nodes: p.pick([3, 3, 5]),
    ...someGroups(p),
    moveRate: p.pick([0.2, 0.4]),
    concurrentChangeRate: p.pick([0.5, 0.9]),
    isolateAfterChangeRate: p.pick([0.2, 0.5]),
    transferRate: p.pick([0.02, 0.08]),
    partitionRate: p.pick([0.1, 0.3]),
    leaderIsolateRate: p.pick([0.05, 0.2]),
    wipeRate: p.pick([0.05, 0.1]),
    snapshotEvery: p.pick([4, 12]),
  }),
  reads: (p) => ({
    nodes: 3,
    groups: 1,
    activeGroups: 1,
    replicas: 3,
    readShare: 0.6,
    keys: 1,
    clients: p.range(6, 10),
    leaderIsolateRate: p.pick([0.3, 0.6]),
    commitIsolateRate: p.pick([0.05, 0.2]),
    crashRate: 0.02,
    partitionRate: p.pick([0.1, 0.3]),
    faultMs: 4000,
    clockDrift: p.pick([0.02, 0.1]),
    raft: { check_quorum: p.chance(0.5), heartbeat_ticks: p.pick([2, 3]) },
  }),
  hell: (p) => ({
    crashRate: p.pick([0.1, 0.3]),
    powerLossRate: p.pick([0.02, 0.05]),
    promiseCrashRate: p.pick([0.005, 0.02]),
    partitionRate: p.pick([0.1, 0.3]),
    connectionResetRate: 0.1,
    disk: { shortWrite: 0.1, writeError: 0.002, syncError: 0.002, writtenBitFlip: 0 },
    bitFlipWritten: 0.005,
    bitFlipAtRest: 0.1,
    diskFullRate: 0.02,
    wipeRate: 0.01,
    clockDrift: p.pick([0.02, 0.1]),
    timerJitter: p.pick([0.2, 1]),
    pauseRate: p.pick([0.02, 0.05]),
    pauseMaxMs: p.pick([100, 400]),
    moveRate: p.pick([0.05, 0.15]),
    concurrentChangeRate: 0.3,
    isolateAfterChangeRate: 0.1,
    transferRate: 0.05,
  }),
};

function someGroups(p: Prng): Pick<Scenario, 'groups' | 'activeGroups'> {
  const groups = p.range(1, 3);
  return { groups, activeGroups: groups };
}

/** The scenario of a seed under a profile, reproducible from the seed alone. */
export function scenarioFor(seed: number, profile = 'mixed', overrides: Partial<Scenario> = {}): Scenario {
  const tweak = PROFILES[profile];
  if (!tweak) throw new Error(`unknown profile ${profile}; one of ${Object.keys(PROFILES).join(', ')}`);
  const p = new Prng(seed ^ 0x5ca1ab1e);
  const base = mixedScenario(p);
  const changes = tweak(p, base);
  const s: Scenario = { ...base, ...changes, raft: { ...base.raft, ...changes.raft } };
  if (s.replicas > s.nodes) s.replicas = s.nodes;
  return { ...s, ...overrides, raft: { ...s.raft, ...(overrides.raft ?? {}) } };
}

function mixedScenario(p: Prng): Scenario {
  const idle = p.chance(0.03);
  // "Chaos" runs: few groups, many crashes with slow disks, tiny append batches; they are the
  // runs most likely to expose durability and commit-rule bugs.
  const chaos = !idle && p.chance(0.35);
  const nodes = chaos ? (p.chance(0.7) ? 5 : 3) : p.chance(0.5) ? 3 : 5;
  const groups = idle ? 256 : chaos ? p.range(1, 2) : p.range(1, 8);
  const heavy = chaos || p.chance(0.5);
  return {
    nodes,
    groups,
    activeGroups: idle ? 2 : groups,
    replicas: chaos ? nodes : Math.min(3, nodes),
    tickMs: 10,
    faultMs: idle ? 800 : p.range(1200, 2400),
    livenessMs: 5000,
    network: {
      drop: p.pick([0, 0.01, 0.05, 0.15]),
      duplicate: p.pick([0, 0.02, 0.08]),
      reorder: p.pick([0, 0.05, 0.2]),
      delayMinMs: 0.5,
      delayMaxMs: p.pick([2, 5, 12]),
      reorderMaxMs: p.pick([30, 150, 400]),
      resetOnPartition: p.pick([0, 0.5]),
    },
    crashRate: heavy ? p.pick([0.1, 0.2, 0.35]) : p.pick([0, 0.03, 0.08]),
    powerLossRate: chaos ? p.pick([0.02, 0.05, 0.1]) : p.pick([0, 0, 0.01]),
    promiseCrashRate: chaos ? p.pick([0.005, 0.02, 0.05]) : 0,
    leaderCrashRate: chaos ? p.pick([0.1, 0.3, 0.5]) : p.pick([0, 0, 0.05]),
    leaderIsolateRate: chaos ? p.pick([0.1, 0.3, 0.5]) : p.pick([0, 0, 0.05]),
    commitIsolateRate: chaos ? p.pick([0.01, 0.05, 0.2]) : 0,
    partitionRate: heavy ? p.pick([0.1, 0.2, 0.3]) : p.pick([0, 0.05, 0.1]),
    connectionResetRate: p.pick([0, 0.02]),
    faultRoundMs: 50,
    downMinMs: 5,
    downMaxMs: chaos ? p.pick([60, 150]) : p.pick([100, 300, 800]),
    diskMinMs: 0.2,
    diskMaxMs: chaos ? p.pick([15, 40]) : p.pick([1, 4, 15]),
    // Crashes always tear in-flight writes and lose unsynced data; these are the rarer faults.
    disk: { shortWrite: p.pick([0, 0.02]), writeError: 0, syncError: 0, writtenBitFlip: 0 },
    bitFlipWritten: 0,
    bitFlipAtRest: 0,
    diskFullRate: 0,
    wipeRate: 0,
    clockDrift: p.pick([0, 0.01]),
    timerJitter: p.pick([0, 0.1]),
    pauseRate: 0,
    pauseMaxMs: 0,
    moveRate: idle ? 0 : p.pick([0, 0.05, 0.15]),
    concurrentChangeRate: p.pick([0, 0.1]),
    isolateAfterChangeRate: 0,
    transferRate: idle ? 0 : p.pick([0, 0.02, 0.08]),
    snapshotEvery: p.pick([4, 12, 40, 1000]),
    clients: chaos ? p.range(4, 8) : p.range(3, 8),
    keys: p.range(1, 3),
    clientThinkMaxMs: p.pick([2, 10, 30]),
    readShare: 0.4,
    raft: {
      election_ticks: 10,
      heartbeat_ticks: p.pick([1, 2, 3]),
      max_append_entries: chaos ? 1 : p.pick([1, 4, 64]),
      max_append_bytes: p.pick([64, 1024, 1 << 20]),
      max_inflight_msgs: p.pick([1, 4, 16]),
      max_inflight_bytes: p.pick([1024, 1 << 20]),
      max_uncommitted_bytes: p.pick([2048, 1 << 20]),
      max_entry_bytes: 1024,
      snapshot_chunk_bytes: p.pick([64, 512, 1 << 20]),
      compaction_keep_entries: p.pick([0, 3, 50]),
      max_read_index_queue: p.pick([4, 256]),
      check_quorum: p.chance(0.85),
    },
  };
}

export function describeScenario(s: Scenario): string {
  const n = s.network;
  const d = s.disk;
  return (
    `${s.nodes} nodes, ${s.groups} groups (${s.activeGroups} active), faults ${s.faultMs}ms: ` +
    `drop ${n.drop} dup ${n.duplicate} reorder ${n.reorder}, crash ${s.crashRate}, partition ${s.partitionRate}, ` +
    `disk short ${d.shortWrite} eio ${d.writeError}/${d.syncError} full ${s.diskFullRate} ` +
    `flips ${s.bitFlipWritten}/${s.bitFlipAtRest} wipe ${s.wipeRate}, ` +
    `drift ${s.clockDrift} pause ${s.pauseRate}, moves ${s.moveRate} (concurrent ${s.concurrentChangeRate}), ` +
    `transfers ${s.transferRate}, snapshot every ${s.snapshotEvery}, check_quorum ${String(s.raft.check_quorum)}`
  );
}
