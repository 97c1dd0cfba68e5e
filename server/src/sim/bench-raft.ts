#!/usr/bin/env node
import { validateRaftConfig } from '../raft/config.js';
import { MultiRaft, type WireMessage } from '../raft/multi-raft.js';
import { Prng } from '../raft/prng.js';
import { initialGroupState } from '../raft/replica-init.js';
import type { PersistAck } from '../raft/types.js';
import { crc32 } from '../util/checksum.js';

/**
 * Throughput of the pure core: three nodes hosting 256 groups each, in one
 * process, with storage that is durable at once and a perfect network, so the
 * numbers measure Raft bookkeeping alone.
 *
 *   node dist/sim/bench-raft.js [proposals] [batch]
 */
export interface BenchResult {
  readonly groups: number;
  readonly proposals: number;
  readonly seconds: number;
  readonly proposalsPerSecond: number;
  readonly messages: number;
  readonly idleTicksPerSecond: number;
}

export function benchRaft(proposals = 100_000, batch = 512, payloadBytes = 100): BenchResult {
  const ids = ['n1', 'n2', 'n3'];
  const groups = 256;
  const config = validateRaftConfig({ election_ticks: 10, heartbeat_ticks: 2 });
  const prng = new Prng(1);
  const nodes = new Map<string, MultiRaft>();
  for (const id of ids) {
    const multi = new MultiRaft({ id, config, prng: prng.fork(), checksum: crc32 });
    for (let g = 0; g < groups; g++)
      multi.createGroup(g, { storage: initialGroupState({ voters: ids, learners: [] }) });
    nodes.set(id, multi);
  }
  let messages = 0;
  let inflight: WireMessage[] = [];
  const pump = () => {
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const multi of nodes.values()) {
        while (multi.hasReady()) {
          moved = true;
          const mr = multi.ready();
          const acks: PersistAck[] = [];
          for (const r of mr.readies) if (r.ack) acks.push(r.ack);
          if (acks.length > 0) multi.persisted(acks);
          for (const m of mr.messages) inflight.push(m);
        }
      }
      const batchMsgs = inflight;
      inflight = [];
      messages += batchMsgs.length;
      for (const m of batchMsgs) nodes.get(m.to)!.step(m);
      if (!moved && batchMsgs.length === 0) return;
    }
    throw new Error('bench: cluster did not settle');
  };
  for (let g = 0; g < groups; g++) nodes.get(ids[g % 3]!)!.campaign(g);
  pump();

  const idleStart = performance.now();
  const idleTicks = 200;
  for (let t = 0; t < idleTicks; t++) {
    for (const multi of nodes.values()) multi.tick();
    pump();
  }
  const idleSeconds = (performance.now() - idleStart) / 1000;

  const payload = new Uint8Array(payloadBytes);
  messages = 0;
  const start = performance.now();
  let sent = 0;
  let g = 0;
  while (sent < proposals) {
    const n = Math.min(batch, proposals - sent);
    for (let i = 0; i < n; i++) {
      const group = g++ % groups;
      const leader = nodes.get(ids[group % 3]!)!;
      const r = leader.propose(group, payload);
      if (!r.ok) throw new Error(`bench: proposal refused: ${r.error.code}`);
    }
    sent += n;
    pump();
  }
  const seconds = (performance.now() - start) / 1000;
  for (let i = 0; i < groups; i++) {
    for (const multi of nodes.values()) {
      const raft = multi.node(i)!;
      if (raft.applied < raft.log.lastIndex()) throw new Error(`bench: group ${i} did not apply everything`);
    }
  }
  return {
    groups,
    proposals,
    seconds,
    proposalsPerSecond: proposals / seconds,
    messages,
    idleTicksPerSecond: idleTicks / idleSeconds,
  };
}

const invokedDirectly =
  process.argv[1]?.endsWith('bench-raft.js') || process.argv[1]?.endsWith('bench-raft.ts');
if (invokedDirectly) {
  const proposals = Number(process.argv[2] ?? 100_000);
  const batch = Number(process.argv[3] ?? 512);
  const r = benchRaft(proposals, batch);
  console.log(
    `${r.proposals} proposals over ${r.groups} groups × 3 replicas in ${r.seconds.toFixed(2)}s: ` +
      `${Math.round(r.proposalsPerSecond)} proposals/s committed and applied on every replica, ` +
      `${r.messages} messages; idle: ${Math.round(r.idleTicksPerSecond)} cluster ticks/s`,
  );
}
