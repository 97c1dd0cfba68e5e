import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/raft/index.js';
import { WalRaftStorage } from '../../../src/replication/storage/wal-storage.js';
import { crc32 } from '../../../src/util/checksum.js';

const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-storage-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(text),
});

const snapshot = (index: number, term: number, text: string) => {
  const data = new TextEncoder().encode(text);
  return { meta: { index, term, conf: { voters: ['a', 'b'], learners: [] }, checksum: crc32(data) }, data };
};

const decode = (entries: readonly Entry[]) =>
  entries.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)]);

describe('wal storage – durable raft state', () => {
  it('round-trips entries and hard state of several groups across reopen', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    await s.write([
      { group: 1, entries: [entry(1, 1), entry(2, 1)], hardState: { term: 1, vote: 'a', commit: 2 } },
      { group: 7, entries: [entry(1, 3)], hardState: { term: 3, vote: null, commit: 0 } },
    ]);
    await s.close();
    const r = await WalRaftStorage.open(dir);
    expect(r.groups()).toEqual([1, 7]);
    const g1 = await r.load(1);
    expect(g1.hardState).toEqual({ term: 1, vote: 'a', commit: 2 });
    expect(decode(g1.entries)).toEqual([
      [1, 1, 'e1'],
      [2, 1, 'e2'],
    ]);
    expect(decode((await r.load(7)).entries)).toEqual([[1, 3, 'e1']]);
    await r.close();
  });

  it('replaces a conflicting suffix', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    await s.write([{ group: 1, entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }]);
    await s.write([{ group: 1, entries: [entry(3, 2, 'x3')] }]);
    await s.close();
    const r = await WalRaftStorage.open(dir);
    expect(decode((await r.load(1)).entries)).toEqual([
      [1, 1, 'e1'],
      [2, 1, 'e2'],
      [3, 2, 'x3'],
    ]);
    await r.close();
  });

  it('compaction keeps entries after the snapshot; install replaces the whole log', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);

    await s.write([
      { group: 1, entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1)) },
      { group: 2, entries: [1, 2, 3].map((i) => entry(i, 1)) },
    ]);
    await s.write([
      { group: 1, snapshot: { snapshot: snapshot(3, 1, 'state@3'), mode: 'compact' } },
      {
        group: 2,
        snapshot: { snapshot: snapshot(10, 4, 'state@10'), mode: 'install' },
        entries: [entry(11, 4)],
      },
    ]);
    await s.close();
    const r = await WalRaftStorage.open(dir);
    const g1 = await r.load(1);
    expect(g1.snapshot?.meta.index).toBe(3);
    expect(new TextDecoder().decode(g1.snapshot?.data)).toBe('state@3');
    expect(decode(g1.entries).map((e) => e[0])).toEqual([4, 5]);
    const g2 = await r.load(2);
    expect(g2.snapshot?.meta).toEqual(snapshot(10, 4, 'state@10').meta);
    expect(decode(g2.entries).map((e) => e[0])).toEqual([11]);
    await r.close();
  });

  it('rejects a write that would leave a gap', async () => {
    const s = await WalRaftStorage.open(tempDir());
    await s.write([{ group: 1, entries: [entry(1, 1)] }]);
    expect(() => s.write([{ group: 1, entries: [entry(3, 1)] }])).toThrow(/gap/);
    await s.close();
  });

  it('matches an in-memory model under appends, truncations, compactions, installs and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('append' as const),
              group: fc.nat(2),
              back: fc.nat(3),
              count: fc.integer({ min: 1, max: 4 }),
            }),
            fc.record({ kind: fc.constant('compact' as const), group: fc.nat(2), back: fc.nat(4) }),
            fc.record({
              kind: fc.constant('install' as const),
              group: fc.nat(2),
              ahead: fc.integer({ min: -2, max: 5 }),
            }),
            fc.record({ kind: fc.constant('reopen' as const) }),
          ),
          { maxLength: 40 },
        ),
        async (ops) => {
          const dir = tempDir();
          // Tiny segments: rotation, checkpoints and reclaiming happen all the time.
          const options = { segment_bytes_max: 300, segments_retained_max: 2 };
          let s = await WalRaftStorage.open(dir, options);
          const model = [0, 1, 2].map(() => ({ entries: [] as Entry[], snap: 0 }));
          let term = 1;
          for (const op of ops) {
            if (op.kind === 'reopen') {
              await s.close();
              s = await WalRaftStorage.open(dir, options);
              continue;
            }
            const m = model[op.group]!;
            const last = m.snap + m.entries.length;
            if (op.kind === 'append') {
              term++;
              const start = Math.max(m.snap + 1, last + 1 - op.back);
              const fresh = Array.from({ length: op.count }, (_, i) => entry(start + i, term, `t${term}`));
              m.entries = [...m.entries.filter((e) => e.index < start), ...fresh];
              await s.write([{ group: op.group, entries: fresh }]);
            } else if (op.kind === 'compact') {
              const idx = Math.max(m.snap, last - op.back);
              if (idx === m.snap) continue;
              const t = m.entries.find((e) => e.index === idx)?.term ?? 1;
              m.entries = m.entries.filter((e) => e.index > idx);
              m.snap = idx;
              await s.write([
                { group: op.group, snapshot: { snapshot: snapshot(idx, t, `s${idx}`), mode: 'compact' } },
              ]);
            } else {
              const idx = Math.max(m.snap + 1, last + op.ahead);
              m.entries = [];
              m.snap = idx;
              await s.write([
                { group: op.group, snapshot: { snapshot: snapshot(idx, term, `i${idx}`), mode: 'install' } },
              ]);
            }
          }
          await s.close();
          s = await WalRaftStorage.open(dir, options);
          for (const [group, m] of model.entries()) {
            const loaded = await s.load(group);
            expect(loaded.snapshot?.meta.index ?? 0, `group ${group} snapshot`).toBe(m.snap);
            expect(decode(loaded.entries), `group ${group} entries`).toEqual(decode(m.entries));
          }
          await s.close();
        },
      ),
      { seed: 42, numRuns: 80 },
    );
  });
});

describe('wal storage – torn writes, corruption and segment reclaim', () => {
  const walFiles = (dir: string) =>
    readdirSync(join(dir, 'wal'))
      .filter((n) => n.endsWith('.wal'))
      .sort()
      .map((n) => join(dir, 'wal', n));

  it('cuts a torn tail at any byte: what remains is exactly the batches written before the cut', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    const ends: number[] = [];
    for (let i = 1; i <= 12; i++) {
      await s.write([
        {
          group: 3,
          entries: [entry(i, 1, `payload-${i}`.repeat(i))],
          hardState: { term: 1, vote: 'a', commit: i },
        },
      ]);
      ends.push(statSync(walFiles(dir).at(-1)!).size);
    }
    await s.close();
    const full = readFileSync(walFiles(dir).at(-1)!);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: full.length - 1 }), async (cut) => {
        const file = walFiles(dir).at(-1)!;
        writeFileSync(file, full.subarray(0, cut));
        const r = await WalRaftStorage.open(dir);
        const kept = ends.filter((end) => end <= cut).length;
        const g = await r.load(3);
        expect(g.entries.map((e) => e.index)).toEqual(Array.from({ length: kept }, (_, i) => i + 1));
        expect(g.hardState?.commit ?? 0).toBe(kept);
        // An empty log keeps only the segment's 8-byte header.
        expect(statSync(file).size).toBe(kept === 0 ? 8 : ends[kept - 1]);
        // The log keeps going after recovery.
        await r.write([{ group: 3, entries: [entry(kept + 1, 2)] }]);
        await r.close();
        writeFileSync(file, full);
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('garbage appended after the last record is cut, not replayed', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    await s.write([{ group: 1, entries: [entry(1, 1)] }]);
    await s.close();
    appendFileSync(walFiles(dir).at(-1)!, Buffer.from([0xff, 0xff, 0x00, 0x00, 1, 2, 3]));
    const r = await WalRaftStorage.open(dir);
    expect((await r.load(1)).entries.map((e) => e.index)).toEqual([1]);
    await r.close();
  });

  it('corruption before the last segment stops start-up naming the file', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir, { segment_bytes_max: 256 });
    for (let i = 1; i <= 20; i++) await s.write([{ group: 1, entries: [entry(i, 1, 'x'.repeat(40))] }]);
    await s.close();
    const files = walFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const victim = readFileSync(files[0]!);
    victim[12] = victim[12]! ^ 0xff;
    writeFileSync(files[0]!, victim);
    await expect(WalRaftStorage.open(dir)).rejects.toThrow(
      /corrupt.*0000000001\.wal|0000000001\.wal.*corrupt/,
    );
  });

  it('reclaims segments once snapshots cover them, and recovers from checkpoints', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir, { segment_bytes_max: 2_000, segments_retained_max: 2 });
    let max = 0;
    for (let i = 1; i <= 400; i++) {
      const writes: Parameters<typeof s.write>[0][number][] = [
        { group: 1, entries: [entry(i, 1, 'y'.repeat(30))], hardState: { term: 1, vote: 'a', commit: i } },
      ];
      if (i % 50 === 0)
        writes.push({ group: 1, snapshot: { snapshot: snapshot(i - 5, 1, `s${i - 5}`), mode: 'compact' } });
      await s.write(writes);
      max = Math.max(max, s.segmentCount());
    }
    await s.compactionsSettled();
    // Without reclaiming, 400 × ~60 bytes would need a dozen segments.
    expect(s.segmentCount()).toBeLessThanOrEqual(4);
    expect(readdirSync(join(dir, 'snap')).filter((n) => n.endsWith('.snap'))).toEqual([
      expect.stringMatching(/^g1-395-1-\d+\.snap$/),
    ]);
    await s.close();
    const r = await WalRaftStorage.open(dir);
    const g = await r.load(1);
    expect(g.snapshot?.meta.index).toBe(395);
    expect(new TextDecoder().decode(g.snapshot?.data)).toBe('s395');
    expect(g.entries.map((e) => e.index)).toEqual([396, 397, 398, 399, 400]);
    expect(g.hardState?.commit).toBe(400);
    await r.close();
  });

  it('names groups whose unsnapshotted entries pin old segments', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir, { segment_bytes_max: 1_000, segments_retained_max: 2 });
    await s.write([{ group: 9, entries: [entry(1, 1)] }]);
    for (let i = 1; i <= 100; i++) {
      await s.write([{ group: 2, entries: [entry(i, 1, 'z'.repeat(30))] }]);
      if (i % 10 === 0) {
        await s.write([{ group: 2, snapshot: { snapshot: snapshot(i, 1, 'g2'), mode: 'compact' } }]);
        await s.compactionsSettled();
      }
    }
    expect(s.groupsPinningOldLog()).toEqual([9]);
    await s.write([{ group: 9, snapshot: { snapshot: snapshot(1, 1, 'g9'), mode: 'compact' } }]);
    for (let i = 101; i <= 140; i++) await s.write([{ group: 2, entries: [entry(i, 1, 'z'.repeat(30))] }]);
    await s.write([{ group: 2, snapshot: { snapshot: snapshot(140, 1, 'g2'), mode: 'compact' } }]);
    await s.compactionsSettled();
    await s.write([{ group: 2, entries: [entry(141, 1, 'z'.repeat(600))] }]);
    expect(s.groupsPinningOldLog()).toEqual([]);
    await s.close();
  });
});

describe('wal storage – compaction snapshots beside the group-commit chain', () => {
  const big = (index: number, mib: number) => {
    const data = new Uint8Array(mib * 1024 * 1024).fill(index);
    return { meta: { index, term: 1, conf: { voters: ['a'], learners: [] }, checksum: crc32(data) }, data };
  };

  it('acknowledges later entries without waiting for a large snapshot file, and recovers from it once recorded', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    for (let i = 1; i <= 10; i++) await s.write([{ group: 1, entries: [entry(i, 1)] }]);
    await s.write([{ group: 1, snapshot: { snapshot: big(8, 48), mode: 'compact' } }]);
    let settled = false;
    const settling = s.compactionsSettled().then(() => {
      settled = true;
    });
    await s.write([{ group: 1, entries: [entry(11, 1)], hardState: { term: 1, vote: 'a', commit: 11 } }]);
    expect(settled, 'the entry waited for the snapshot file').toBe(false);
    await settling;
    await s.close();

    const r = await WalRaftStorage.open(dir);
    const g = await r.load(1);
    expect(g.snapshot?.meta.index).toBe(8);
    expect(g.snapshot?.data.length).toBe(48 * 1024 * 1024);
    expect(g.entries.map((e) => e.index)).toEqual([9, 10, 11]);
    await r.close();
  });

  it('never records a compaction that a newer one overtook, and keeps only the newest file', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    for (let i = 1; i <= 10; i++) await s.write([{ group: 1, entries: [entry(i, 1)] }]);
    await s.write([{ group: 1, snapshot: { snapshot: big(5, 32), mode: 'compact' } }]);
    await s.write([{ group: 1, snapshot: { snapshot: snapshot(8, 1, 's8'), mode: 'compact' } }]);
    await s.close();
    expect(readdirSync(join(dir, 'snap')).filter((n) => n.endsWith('.snap'))).toEqual([
      expect.stringMatching(/^g1-8-1-\d+\.snap$/),
    ]);
    const r = await WalRaftStorage.open(dir);
    const g = await r.load(1);
    expect(g.snapshot?.meta.index).toBe(8);
    expect(new TextDecoder().decode(g.snapshot?.data)).toBe('s8');
    expect(g.entries.map((e) => e.index)).toEqual([9, 10]);
    await r.close();
  });
});
