import type { RaftConfig } from '../raft/config.js';
import { Prng } from '../raft/prng.js';
import type { NetworkFaults } from './network.js';

/**
 * Named fault profiles. `mixed` (the default) draws sizes and fault intensities
 * per seed. `figure8` aims at the commit rule: three replicas, one entry per
 * append, new leaders and freshly committing leaders cut off at once, and long
 * runs, so the interleaving of the Raft paper's Figure 8 (an old-term entry
 * reaches a majority, then a node with a newer conflicting entry wins) occurs.
 */
export const PROFILES: Readonly<Record<string, Partial<Scenario>>> = {
  mixed: {},
  figure8: {
    nodes: 3,
    groups: 1,
    activeGroups: 1,
    replicas: 3,
    leaderIsolateRate: 0.5,
    commitIsolateRate: 0.5,
    faultMs: 10_000,
    raft: { max_append_entries: 1 },
  },
};

/** Everything a run varies, all drawn from the seed (tests may override parts). */
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
  faultRoundMs: number;
  downMinMs: number;
  downMaxMs: number;
  /** Storage write latency range; writes complete in order. */
  diskMinMs: number;
  diskMaxMs: number;
  /** Per controller round and active group, probability of starting a membership move. */
  moveRate: number;
  transferRate: number;
  /** A replica compacts after applying this many entries past its snapshot. */
  compactEvery: number;
  clients: number;
  keys: number;
  clientThinkMaxMs: number;
  raft: Partial<RaftConfig>;
}

/** The scenario of a seed: a mix of sizes and fault intensities, reproducible from the seed alone. */
export function scenarioFor(seed: number, overrides: Partial<Scenario> = {}): Scenario {
  const p = new Prng(seed ^ 0x5ca1ab1e);
  const idle = p.chance(0.03);
  // "Chaos" runs: few groups, many crashes with slow disks, tiny append batches; they are the
  // runs most likely to expose durability and commit-rule bugs.
  const chaos = !idle && p.chance(0.35);
  const nodes = chaos ? (p.chance(0.7) ? 5 : 3) : p.chance(0.5) ? 3 : 5;
  const groups = idle ? 256 : chaos ? p.range(1, 2) : p.range(1, 8);
  const heavy = chaos || p.chance(0.5);
  const s: Scenario = {
    nodes,
    groups,
    activeGroups: idle ? 2 : groups,
    replicas: chaos ? nodes : Math.min(3, nodes),
    tickMs: 10,
    faultMs: idle ? 800 : p.range(1200, 2400),
    livenessMs: 4000,
    network: {
      drop: p.pick([0, 0.01, 0.05, 0.15]),
      duplicate: p.pick([0, 0.02, 0.08]),
      reorder: p.pick([0, 0.05, 0.2]),
      delayMinMs: 0.5,
      delayMaxMs: p.pick([2, 5, 12]),
      reorderMaxMs: p.pick([30, 150, 400]),
    },
    crashRate: heavy ? p.pick([0.1, 0.2, 0.35]) : p.pick([0, 0.03, 0.08]),
    powerLossRate: chaos ? p.pick([0.02, 0.05, 0.1]) : p.pick([0, 0, 0.01]),
    promiseCrashRate: chaos ? p.pick([0.005, 0.02, 0.05]) : 0,
    leaderCrashRate: chaos ? p.pick([0.1, 0.3, 0.5]) : p.pick([0, 0, 0.05]),
    leaderIsolateRate: chaos ? p.pick([0.1, 0.3, 0.5]) : p.pick([0, 0, 0.05]),
    commitIsolateRate: chaos ? p.pick([0.01, 0.05, 0.2]) : 0,
    partitionRate: heavy ? p.pick([0.1, 0.2, 0.3]) : p.pick([0, 0.05, 0.1]),
    faultRoundMs: 50,
    downMinMs: 5,
    downMaxMs: chaos ? p.pick([60, 150]) : p.pick([100, 300, 800]),
    diskMinMs: 0.2,
    diskMaxMs: chaos ? p.pick([15, 40]) : p.pick([1, 4, 15]),
    moveRate: idle ? 0 : p.pick([0, 0.05, 0.15]),
    transferRate: idle ? 0 : p.pick([0, 0.02, 0.08]),
    compactEvery: p.pick([4, 12, 40, 1000]),
    clients: chaos ? p.range(4, 8) : p.range(3, 8),
    keys: p.range(1, 3),
    clientThinkMaxMs: p.pick([2, 10, 30]),
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
  return { ...s, ...overrides, raft: { ...s.raft, ...(overrides.raft ?? {}) } };
}

export function describeScenario(s: Scenario): string {
  const n = s.network;
  return (
    `${s.nodes} nodes, ${s.groups} groups (${s.activeGroups} active), faults ${s.faultMs}ms: ` +
    `drop ${n.drop} dup ${n.duplicate} reorder ${n.reorder}, crash ${s.crashRate}, partition ${s.partitionRate}, ` +
    `moves ${s.moveRate}, transfers ${s.transferRate}, compact every ${s.compactEvery}, ` +
    `check_quorum ${String(s.raft.check_quorum)}`
  );
}
