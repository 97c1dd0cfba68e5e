import { describe, expect, it } from 'vitest';
import { validateRaftConfig } from '../../src/raft/config.js';
import { MultiRaft, type WireMessage } from '../../src/raft/multi-raft.js';
import { Prng } from '../../src/raft/prng.js';
import { initialGroupState } from '../../src/raft/replica-init.js';
import type { NodeId } from '../../src/raft/types.js';
import { crc32 } from '../../src/util/checksum.js';
import { bytes } from './harness.js';
import { ModelStorage } from './model-storage.js';

const config = validateRaftConfig({ election_ticks: 10, heartbeat_ticks: 2 });

/** Nodes hosting many groups, with instant durable storage and a perfect network unless cut. */
class MultiCluster {
  readonly nodes = new Map<NodeId, MultiRaft>();
  readonly disks = new Map<NodeId, ModelStorage>();
  readonly down = new Set<NodeId>();
  inflight: WireMessage[] = [];
  sent: WireMessage[] = [];
  writes = 0;

  constructor(
    readonly ids: readonly NodeId[],
    groups: number,
  ) {
    const prng = new Prng(5);
    for (const id of ids) {
      const disk = new ModelStorage();
      const multi = new MultiRaft({ id, config, prng: prng.fork(), checksum: crc32 });
      for (let g = 0; g < groups; g++) {
        const state = initialGroupState({ voters: [...ids], learners: [] });
        disk.bootstrap(g, state);
        expect(multi.createGroup(g, { storage: disk.load(g) }).ok).toBe(true);
      }
      this.nodes.set(id, multi);
      this.disks.set(id, disk);
    }
  }

  node(id: NodeId): MultiRaft {
    return this.nodes.get(id)!;
  }

  turn(id: NodeId): void {
    if (this.down.has(id)) return;
    const multi = this.node(id);
    for (let i = 0; i < 4 && multi.hasReady(); i++) {
      const mr = multi.ready();
      const disk = this.disks.get(id)!;
      const w = disk.submit(mr.readies);
      if (w > 0) {
        this.writes++;
        multi.persisted(disk.complete(w));
      }
      this.inflight.push(...mr.messages);
      this.sent.push(...mr.messages);
    }
  }

  settle(rounds = 50): void {
    for (let r = 0; r < rounds; r++) {
      for (const id of this.ids) this.turn(id);
      const msgs = this.inflight;
      this.inflight = [];
      for (const m of msgs) if (!this.down.has(m.to) && !this.down.has(m.from)) this.node(m.to).step(m);
      if (msgs.length === 0) return;
    }
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const id of this.ids) if (!this.down.has(id)) this.node(id).tick();
      this.settle();
    }
  }

  leaders(groups: number): (NodeId | null)[] {
    const out: (NodeId | null)[] = [];
    for (let g = 0; g < groups; g++) {
      let leader: NodeId | null = null;
      for (const id of this.ids) {
        if (this.down.has(id)) continue;
        if (this.node(id).node(g)!.role === 'leader') leader = id;
      }
      out.push(leader);
    }
    return out;
  }
}

describe('MultiRaft', () => {
  it('multi-raft – routes by group: every group elects a leader and commits its own proposals', () => {
    const c = new MultiCluster(['n1', 'n2', 'n3'], 4);
    for (let g = 0; g < 4; g++) c.node(['n1', 'n2', 'n3'][g % 3]!).campaign(g);
    c.settle();
    expect(c.leaders(4)).toEqual(['n1', 'n2', 'n3', 'n1']);
    for (let g = 0; g < 4; g++) expect(c.node(c.leaders(4)[g]!).propose(g, bytes(`g${g}`)).ok).toBe(true);
    c.tick(2);
    for (let g = 0; g < 4; g++) {
      for (const id of c.ids) {
        const raft = c.node(id).node(g)!;
        expect(raft.committed).toBe(3);
      }
    }
  });

  it('multi-raft – one durable write per turn covers every group', () => {
    const c = new MultiCluster(['n1', 'n2', 'n3'], 16);
    for (let g = 0; g < 16; g++) c.node('n1').campaign(g);
    c.settle();
    c.tick(2);
    const n1 = c.node('n1');
    for (let g = 0; g < 16; g++) n1.propose(g, bytes('x'));
    const mr = n1.ready();
    expect(mr.readies.filter((r) => r.entries.length > 0)).toHaveLength(16);
    expect(mr.readies.every((r) => r.ack !== null)).toBe(true);
  });

  it('multi-raft – 256 idle groups cost one heartbeat message per peer pair per heartbeat interval', () => {
    const ids = ['n1', 'n2', 'n3'];
    const c = new MultiCluster(ids, 256);
    for (let g = 0; g < 256; g++) c.node(ids[g % 3]!).campaign(g);
    c.settle();
    c.tick(10);
    expect(c.leaders(256).every((l) => l !== null)).toBe(true);
    c.sent = [];
    const ticks = 100;
    c.tick(ticks);
    const perTick = c.sent.length / ticks;
    // Each node sends at most one batch of heartbeats and one of answers to each of 2 peers per
    // 2-tick interval: 3 nodes × 2 peers × 2 / 2 = 6 messages per tick. Without coalescing it
    // would be 256 groups × 2 followers × 2 / 2 = 512.
    expect(perTick).toBeLessThanOrEqual(6);
    expect(c.sent.every((m) => m.type === 'heartbeat_batch')).toBe(true);
    const beats = c.sent.reduce((n, m) => n + (m.type === 'heartbeat_batch' ? m.beats.length : 0), 0);
    expect(beats).toBeGreaterThan(256 * 2 * (ticks / 2) * 0.9);
  });

  it('multi-raft – a crashed node is detected and all its groups get new leaders within the election timeout range', () => {
    const ids = ['n1', 'n2', 'n3'];
    const c = new MultiCluster(ids, 64);
    for (let g = 0; g < 64; g++) c.node('n1').campaign(g);
    c.settle();
    c.tick(5);
    expect(c.leaders(64).every((l) => l === 'n1')).toBe(true);
    c.down.add('n1');
    const detected = (g: number) =>
      ['n2', 'n3'].some((id) => {
        const raft = c.node(id).node(g)!;
        return raft.role !== 'follower' || raft.term > 2;
      });
    let ticks = 0;
    let detectedAt = -1;
    let mostAt = -1;
    while (c.leaders(64).some((l) => l === null) && ticks < 200) {
      c.tick(1);
      ticks++;
      if (detectedAt < 0 && Array.from({ length: 64 }, (_, g) => detected(g)).every(Boolean))
        detectedAt = ticks;
      if (mostAt < 0 && c.leaders(64).filter((l) => l !== null).length >= 58) mostAt = ticks;
    }
    // Followers wait a random [10, 20) ticks after the last heartbeat, then pre-vote and vote:
    // every group notices within the range, nearly all elect at once; the rare split vote retries.
    expect(detectedAt).toBeGreaterThanOrEqual(config.election_ticks);
    expect(detectedAt).toBeLessThanOrEqual(2 * config.election_ticks);
    expect(mostAt).toBeLessThanOrEqual(2 * config.election_ticks + 2);
    expect(ticks).toBeLessThanOrEqual(6 * config.election_ticks);
    expect(c.leaders(64).every((l) => l === 'n2' || l === 'n3')).toBe(true);
  });

  it('multi-raft – check-quorum still works with coalesced heartbeats: an isolated leader node steps down', () => {
    const ids = ['n1', 'n2', 'n3'];
    const c = new MultiCluster(ids, 32);
    for (let g = 0; g < 32; g++) c.node('n1').campaign(g);
    c.settle();
    c.tick(5);
    // n1 keeps ticking but hears nothing.
    c.down.add('n2');
    c.down.add('n3');
    for (let i = 0; i < 2 * config.election_ticks; i++) {
      c.node('n1').tick();
      c.turn('n1');
      c.inflight = [];
    }
    for (let g = 0; g < 32; g++) expect(c.node('n1').node(g)!.role).not.toBe('leader');
  });

  it('multi-raft – groups are created and removed; removal returns the term for the tombstone', () => {
    const c = new MultiCluster(['n1'], 1);
    const n1 = c.node('n1');
    const dup = n1.createGroup(0);
    expect(!dup.ok && dup.error.code).toBe('group_exists');
    n1.campaign(0);
    c.settle();
    expect(n1.createGroup(9).ok).toBe(true);
    expect(n1.groups().sort()).toEqual([0, 9]);
    const removed = n1.removeGroup(0);
    expect(removed.ok && removed.value.term).toBe(2);
    const unknown = n1.propose(0, bytes('x'));
    expect(!unknown.ok && unknown.error.code).toBe('unknown_group');
    n1.step({ type: 'timeout_now', group: 0, from: 'n2', to: 'n1', term: 3 });
    expect(n1.droppedMessages).toBe(1);
  });
});
