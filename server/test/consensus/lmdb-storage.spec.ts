import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { LmdbRaftStorage, type StoredEntry } from '../../src/consensus/lmdb-storage.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-storage-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const entry = (index: number, term: number, text = `e${index}`): StoredEntry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(text),
});

const snapshot = (index: number, term: number, text: string) => ({
  meta: { index, term, conf: { voters: ['a', 'b'], learners: [] } },
  data: new TextEncoder().encode(text),
});

const decode = (entries: StoredEntry[]) =>
  entries.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)]);

describe('lmdb storage – durable raft state', () => {
  it('round-trips entries and hard state of several groups across reopen', async () => {
    const dir = tempDir();
    const s = LmdbRaftStorage.open(dir);
    await s.write([
      { group: 1, entries: [entry(1, 1), entry(2, 1)], hardState: { term: 1, vote: 'a', commit: 2 } },
      { group: 7, entries: [entry(1, 3)], hardState: { term: 3, vote: null, commit: 0 } },
    ]);
    await s.close();
    const r = LmdbRaftStorage.open(dir);
    expect(r.groups()).toEqual([1, 7]);
    const g1 = r.load(1);
    expect(g1.hardState).toEqual({ term: 1, vote: 'a', commit: 2 });
    expect(decode(g1.entries)).toEqual([
      [1, 1, 'e1'],
      [2, 1, 'e2'],
    ]);
    expect(decode(r.load(7).entries)).toEqual([[1, 3, 'e1']]);
    await r.close();
  });

  it('replaces a conflicting suffix', async () => {
    const dir = tempDir();
    const s = LmdbRaftStorage.open(dir);
    s.load(1);
    await s.write([{ group: 1, entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }]);
    await s.write([{ group: 1, entries: [entry(3, 2, 'x3')] }]);
    await s.close();
    const r = LmdbRaftStorage.open(dir);
    expect(decode(r.load(1).entries)).toEqual([
      [1, 1, 'e1'],
      [2, 1, 'e2'],
      [3, 2, 'x3'],
    ]);
    await r.close();
  });

  it('compaction keeps entries after the snapshot; install replaces the whole log', async () => {
    const dir = tempDir();
    const s = LmdbRaftStorage.open(dir);
    s.load(1);
    s.load(2);
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
    const r = LmdbRaftStorage.open(dir);
    const g1 = r.load(1);
    expect(g1.snapshot?.meta.index).toBe(3);
    expect(new TextDecoder().decode(g1.snapshot?.data)).toBe('state@3');
    expect(decode(g1.entries).map((e) => e[0])).toEqual([4, 5]);
    const g2 = r.load(2);
    expect(g2.snapshot?.meta).toEqual({ index: 10, term: 4, conf: { voters: ['a', 'b'], learners: [] } });
    expect(decode(g2.entries).map((e) => e[0])).toEqual([11]);
    await r.close();
  });

  it('rejects a write that would leave a gap', async () => {
    const s = LmdbRaftStorage.open(tempDir());
    s.load(1);
    await s.write([{ group: 1, entries: [entry(1, 1)] }]);
    expect(() => s.write([{ group: 1, entries: [entry(3, 1)] }])).toThrow(/gap/);
    await s.close();
  });

  it('matches an in-memory model under random appends, truncations and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('append' as const),
              back: fc.nat(3),
              count: fc.integer({ min: 1, max: 4 }),
            }),
            fc.record({ kind: fc.constant('compact' as const), back: fc.nat(4) }),
          ),
          { maxLength: 25 },
        ),
        async (ops) => {
          const dir = tempDir();
          let s = LmdbRaftStorage.open(dir);
          s.load(0);
          let model: StoredEntry[] = [];
          let snapIndex = 0;
          let term = 1;
          for (const op of ops) {
            const last = snapIndex + model.length;
            if (op.kind === 'append') {
              term++;
              const start = Math.max(snapIndex + 1, last + 1 - op.back);
              const fresh = Array.from({ length: op.count }, (_, i) => entry(start + i, term, `t${term}`));
              model = [...model.filter((e) => e.index < start), ...fresh];
              await s.write([{ group: 0, entries: fresh }]);
            } else {
              const idx = Math.max(snapIndex, last - op.back);
              if (idx === snapIndex) continue;
              const t = model.find((e) => e.index === idx)?.term ?? 1;
              model = model.filter((e) => e.index > idx);
              snapIndex = idx;
              await s.write([
                { group: 0, snapshot: { snapshot: snapshot(idx, t, `s${idx}`), mode: 'compact' } },
              ]);
            }
          }
          await s.close();
          s = LmdbRaftStorage.open(dir);
          const loaded = s.load(0);
          expect(loaded.snapshot?.meta.index ?? 0).toBe(snapIndex);
          expect(decode(loaded.entries)).toEqual(decode(model));
          await s.close();
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  });
});
