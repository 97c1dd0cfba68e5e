import type { Prng } from '../raft/prng.js';
import type { GroupId } from '../raft/types.js';
import type { CheckerName } from './checkers.js';
import type { Scenario } from './scenario.js';
import type { SimNode, SimProcess } from './sim-node.js';

/** What the clients and the membership controller see of a running simulation. */
export interface SimWorld {
  readonly scenario: Scenario;
  readonly prng: Prng;
  readonly nodes: readonly SimNode[];
  now(): number;
  /** Runs `fn` at `at` as the simulation (not as any process). */
  at(at: number, fn: () => void): void;
  /** Runs `fn` at `at` in the node's process running now, if it still runs then (and after any pause). */
  atNode(at: number, node: SimNode, fn: (proc: SimProcess) => void): void;
  faultsOn(): boolean;
  trace(line: string): void;
  violation(checker: CheckerName, message: string): void;
  /** A lost disk is not yet repaired (the node is rebuilding, or a configuration still names its old replica). */
  lossUnrepaired(): boolean;
  /** Cuts the node off from the others shortly (a leader at a critical moment), and heals it later. */
  isolateSoon(node: SimNode): void;
  /** The live replica that leads `group` at the highest term, if any. */
  leaderOf(group: GroupId): { node: SimNode; proc: SimProcess } | undefined;
  readonly stats: SimStats;
}

export interface SimStats {
  events: number;
  virtualMs: number;
  messages: number;
  messagesDropped: number;
  connectionResets: number;
  elections: number;
  crashes: number;
  partitions: number;
  pauses: number;
  confChanges: number;
  confChangesRefused: number;
  transfers: number;
  snapshotsInstalled: number;
  compactions: number;
  writes: number;
  tornWrites: number;
  shortWrites: number;
  ioErrors: number;
  diskFull: number;
  bitFlips: number;
  corruptionsDetected: number;
  storageFailures: number;
  wipes: number;
  opsAcked: number;
  opsUnknown: number;
  readsAcked: number;
}

export function emptyStats(): SimStats {
  return {
    events: 0,
    virtualMs: 0,
    messages: 0,
    messagesDropped: 0,
    connectionResets: 0,
    elections: 0,
    crashes: 0,
    partitions: 0,
    pauses: 0,
    confChanges: 0,
    confChangesRefused: 0,
    transfers: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    writes: 0,
    tornWrites: 0,
    shortWrites: 0,
    ioErrors: 0,
    diskFull: 0,
    bitFlips: 0,
    corruptionsDetected: 0,
    storageFailures: 0,
    wipes: 0,
    opsAcked: 0,
    opsUnknown: 0,
    readsAcked: 0,
  };
}
