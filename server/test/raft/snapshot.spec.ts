import { describe, expect, it } from 'vitest';
import type { Message, SnapshotChunkMessage } from '../../src/raft/types.js';
import { crc32 } from '../../src/util/checksum.js';
import { bytes, GROUP, Harness } from './harness.js';

const chunks = (msgs: readonly Message[], to: string) =>
  msgs.filter((m): m is SnapshotChunkMessage => m.type === 'snap' && m.to === to);

/** a leads; c misses entries 3..22 while isolated; a compacts them away. */
function laggingFollower(options: { autoPersist?: boolean } = {}) {
  const h = new Harness(['a', 'b', 'c'], {
    config: { snapshot_chunk_bytes: 10, compaction_keep_entries: 0, max_inflight_msgs: 2 },
    ...options,
  });
  h.elect('a');
  h.isolate('c');
  const a = h.node('a');
  for (let i = 0; i < 20; i++) a.propose(bytes(`entry-${i}`));
  h.stabilize();
  h.tickAll(2);
  const data = bytes('x'.repeat(95));
  expect(a.compact(a.applied, data, crc32(data)).ok).toBe(true);
  h.stabilize();
  return { h, a, data };
}

describe('snapshots', () => {
  it('snapshot – a lagging follower catches up through a chunked snapshot, then through appends', () => {
    const { h, a, data } = laggingFollower();
    const snapIndex = a.log.snapshot.meta.index;
    h.heal();
    h.tickAll(5);
    const sent = chunks(h.sent('a'), 'c');
    expect(sent.length).toBeGreaterThanOrEqual(10);
    for (const m of sent) expect(m.data.length).toBeLessThanOrEqual(10);
    const installs = h.readies.get('c')!.filter((r) => r.snapshot?.mode === 'install');
    expect(installs).toHaveLength(1);
    expect(installs[0]!.snapshot!.snapshot.meta.index).toBe(snapIndex);
    expect(installs[0]!.snapshot!.snapshot.data).toEqual(data);
    a.propose(bytes('after'));
    h.tickAll(3);
    expect(h.node('c').log.lastIndex()).toBe(a.log.lastIndex());
    expect(h.node('c').committed).toBe(a.committed);
  });

  it('snapshot – a transfer resumes from where the follower is after a lost chunk', () => {
    const { h } = laggingFollower();
    h.heal();
    let dropped: SnapshotChunkMessage | undefined;
    for (let round = 0; round < 60; round++) {
      for (const id of h.ids) h.turn(id);
      for (const m of h.take()) {
        if (!dropped && m.type === 'snap' && m.offset === 30) {
          dropped = m;
          continue;
        }
        h.deliver(m);
      }
      if (round % 3 === 0) for (const id of h.ids) h.tick(id);
    }
    expect(dropped).toBeDefined();
    const after = chunks(h.sent('a'), 'c').filter((m) => m.offset >= 30);
    // The lost chunk is sent again, and the transfer never restarts from scratch.
    expect(after.filter((m) => m.offset === 30).length).toBeGreaterThanOrEqual(2);
    const restarts = chunks(h.sent('a'), 'c').filter((m) => m.offset === 0);
    expect(restarts).toHaveLength(1);
    expect(h.readies.get('c')!.some((r) => r.snapshot?.mode === 'install')).toBe(true);
  });

  it('snapshot – the follower persists the snapshot before acknowledging it', () => {
    const { h } = laggingFollower();
    h.heal();
    h.autoPersist = false;
    let installed = false;
    for (let round = 0; round < 40 && !installed; round++) {
      for (const id of h.ids) {
        const r = h.turn(id);
        if (id !== 'c') h.persist(id);
        if (id === 'c' && r?.snapshot?.mode === 'install') {
          installed = true;
          expect(r.messages.filter((m) => m.type === 'app_resp' && !m.reject)).toHaveLength(0);
        }
      }
      for (const m of h.take()) h.deliver(m);
      if (round % 3 === 0) for (const id of h.ids) h.tick(id);
    }
    expect(installed).toBe(true);
    h.persist('c');
    const r = h.turn('c')!;
    const ack = r.messages.find((m) => m.type === 'app_resp' && !m.reject);
    expect(ack).toBeDefined();
  });

  it('pitfall – a snapshot that arrives while entries are being applied replaces only what follows them', () => {
    const { h, a } = laggingFollower();
    const c = h.node('c');
    // c had committed entries handed to its state machine before it fell behind.
    const handedOut = h.applied.get('c')!.map((e) => e.index);
    expect(handedOut.length).toBeGreaterThan(0);
    const appliedBefore = c.applied;
    h.heal();
    h.tickAll(5);
    const install = h.readies.get('c')!.find((r) => r.snapshot?.mode === 'install')!;
    const snapIndex = install.snapshot!.snapshot.meta.index;
    expect(snapIndex).toBeGreaterThan(appliedBefore);
    // The Ready that installs carries no entry the snapshot already covers.
    for (const e of install.committed_entries) expect(e.index).toBeGreaterThan(snapIndex);
    const later = h.applied
      .get('c')!
      .map((e) => e.index)
      .filter((i) => i > appliedBefore);
    expect(later.every((i) => i > snapIndex)).toBe(true);
    expect(c.applied).toBe(a.applied);
  });

  it('pitfall – a follower ignores a snapshot older than its commit index', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    for (let i = 0; i < 5; i++) h.node('a').propose(bytes(`e${i}`));
    h.tickAll(3);
    const b = h.node('b');
    const commit = b.committed;
    h.readies.set('b', []);
    b.step({
      type: 'snap',
      group: GROUP,
      from: 'a',
      to: 'b',
      term: b.term,
      meta: { index: commit - 2, term: b.termAt(commit - 2)!, conf: b.conf(), checksum: 0 },
      offset: 0,
      total_bytes: 3,
      data: bytes('old'),
      done: true,
    });
    const r = h.turn('b')!;
    expect(r.snapshot).toBeNull();
    expect(r.messages.find((m) => m.type === 'app_resp')).toMatchObject({ index: commit, reject: false });
    expect(b.committed).toBe(commit);
  });

  it('pitfall – compaction while a follower is being probed switches it to a snapshot', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { compaction_keep_entries: 0 } });
    h.elect('a');
    const a = h.node('a');
    h.isolate('c');
    for (let i = 0; i < 5; i++) a.propose(bytes(`e${i}`));
    h.tickAll(2);
    h.heal();
    // a starts probing c (next is past c's log); compact before c answers.
    a.tick();
    h.turn('a');
    const probes = h.take((m) => m.to === 'c');
    expect(probes.some((m) => m.type === 'app' || m.type === 'heartbeat')).toBe(true);
    expect(a.compact(a.applied, bytes('state'), crc32(bytes('state'))).ok).toBe(true);
    for (const m of probes) h.deliver(m);
    h.tickAll(5);
    expect(chunks(h.sent('a'), 'c').length).toBeGreaterThan(0);
    expect(h.node('c').log.lastIndex()).toBe(a.log.lastIndex());
  });

  it('compaction – the driver is told to store the snapshot and drop the log; stale requests are refused', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { compaction_keep_entries: 2 } });
    h.elect('a');
    const a = h.node('a');
    for (let i = 0; i < 6; i++) a.propose(bytes(`e${i}`));
    h.tickAll(2);
    const index = a.applied;
    expect(a.compact(index, bytes('s'), crc32(bytes('s'))).ok).toBe(true);
    // The last two entries stay in memory for slightly lagging followers.
    expect(a.log.firstIndex()).toBe(index - 1);
    const r = h.turn('a')!;
    expect(r.snapshot?.mode).toBe('compact');
    expect(r.snapshot?.snapshot.meta).toMatchObject({ index, term: a.term });
    const stale = a.compact(index, bytes('s'), crc32(bytes('s')));
    expect(!stale.ok && stale.error.code).toBe('snapshot_stale');
    expect(() => a.compact(a.applied + 5, bytes('s'), 0)).toThrow(/beyond applied/);
  });
});

describe('snapshots – transfer integrity', () => {
  const chunk = (
    from: string,
    term: number,
    meta: SnapshotChunkMessage['meta'],
    data: Uint8Array,
    offset: number,
    total: number,
  ): SnapshotChunkMessage => ({
    type: 'snap',
    group: GROUP,
    from,
    to: 'c',
    term,
    meta,
    offset,
    total_bytes: total,
    data,
    done: offset + data.length === total,
  });

  it('snapshot – chunks of two leaders with the same snapshot index, term and size are never spliced', () => {
    // Regression: chunks were matched by (index, term, size) alone.
    const h = new Harness(['a', 'b', 'c'], { config: { snapshot_chunk_bytes: 4 } });
    const c = h.node('c');
    const conf = c.conf();
    const first = bytes('AAAAAAAA');
    const second = bytes('BBBBBBBB');
    const metaA = { index: 50, term: 2, conf, checksum: crc32(first) };
    const metaB = { index: 50, term: 2, conf, checksum: crc32(second) };
    c.step(chunk('a', 3, metaA, first.subarray(0, 4), 0, 8));
    // A later leader's transfer of a snapshot at the same (index, term, size) arrives mid-way.
    c.step(chunk('b', 4, metaB, second.subarray(4), 4, 8));
    // The new term is persisted first; the answers follow in the next turn.
    h.turn('c');
    h.turn('c');
    expect(h.readies.get('c')!.some((r) => r.snapshot)).toBe(false);
    const resp = h.sent('c').find((m) => m.type === 'snap_resp' && m.to === 'b');
    expect(resp).toMatchObject({ reject: true, offset: 0 });
  });

  it('snapshot – a snapshot whose bytes do not match its checksum is never installed', () => {
    const h = new Harness(['a', 'b', 'c'], { config: { snapshot_chunk_bytes: 4 } });
    const c = h.node('c');
    const data = bytes('state!!!');
    const meta = { index: 50, term: 2, conf: c.conf(), checksum: crc32(data) ^ 1 };
    c.step(chunk('a', 3, meta, data.subarray(0, 4), 0, 8));
    c.step(chunk('a', 3, meta, data.subarray(4), 4, 8));
    h.turn('c');
    h.turn('c');
    expect(h.readies.get('c')!.some((r) => r.snapshot)).toBe(false);
    expect(
      h
        .sent('c')
        .filter((m) => m.type === 'snap_resp')
        .at(-1),
    ).toMatchObject({ reject: true, offset: 0 });
    // The same bytes with the right checksum install.
    const good = { ...meta, checksum: crc32(data) };
    c.step(chunk('a', 3, good, data.subarray(0, 4), 0, 8));
    c.step(chunk('a', 3, good, data.subarray(4), 4, 8));
    h.turn('c');
    expect(h.readies.get('c')!.filter((r) => r.snapshot?.mode === 'install')).toHaveLength(1);
  });
});
