import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bugsForTesting } from '../../../src/raft/bugs.js';
import type { Entry } from '../../../src/raft/index.js';
import { WalCorruptionError } from '../../../src/replication/storage/wal-errors.js';
import { WalRaftStorage } from '../../../src/replication/storage/wal-storage.js';
import { crc32 } from '../../../src/util/checksum.js';
import { plainPackr } from '../../../src/util/msgpack.js';
import { FaultyFs } from './faulty-fs.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-walfaults-'));
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
  return { meta: { index, term, conf: { voters: ['a'], learners: [] }, checksum: crc32(data) }, data };
};
const walFiles = (dir: string) =>
  readdirSync(join(dir, 'wal'))
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .map((n) => join(dir, 'wal', n));

/** Writes `count` batches of one entry each to group 1; returns the byte offset where each batch's frame starts. */
async function writeBatches(dir: string, count: number): Promise<number[]> {
  const s = await WalRaftStorage.open(dir);
  const starts: number[] = [];
  for (let i = 1; i <= count; i++) {
    starts.push(statSync(walFiles(dir).at(-1)!).size);
    await s.write([
      { group: 1, entries: [entry(i, 1, `batch-${i}`)], hardState: { term: 1, vote: 'a', commit: i } },
    ]);
  }
  await s.close();
  return starts;
}

function flip(path: string, offset: number, mask = 0x10): void {
  const bytes = readFileSync(path);
  bytes[offset] = bytes[offset]! ^ mask;
  writeFileSync(path, bytes);
}

describe('wal recovery – torn tails are cut, anything else stops start-up', () => {
  it('recovery – one flipped byte in frame 2 of 4 stops start-up naming the file and offset', async () => {
    // Regression: recovery cut the log at the damaged frame and reopened with frames 3 and 4
    // (acknowledged entries, and the term and vote they carried) silently gone.
    const dir = tempDir();
    const starts = await writeBatches(dir, 4);
    const file = walFiles(dir).at(-1)!;
    flip(file, starts[1]! + 14);
    const opened = WalRaftStorage.open(dir);
    await expect(opened).rejects.toBeInstanceOf(WalCorruptionError);
    await expect(opened).rejects.toMatchObject({
      path: file,
      offset: starts[1],
      reason: 'checksum mismatch',
    });
    await expect(opened).rejects.toThrow(new RegExp(`${file}.*corrupt at byte ${starts[1]}`));
  });

  it('recovery – with the old rule (a test-only switch), the same damage silently drops acknowledged batches', async () => {
    const dir = tempDir();
    const starts = await writeBatches(dir, 4);
    flip(walFiles(dir).at(-1)!, starts[1]! + 14);
    const s = await WalRaftStorage.open(dir, { bugs: bugsForTesting(['wal_truncates_valid_frames']) });
    expect((await s.load(1)).entries.map((e) => e.index)).toEqual([1]);
    await s.close();
  });

  it('recovery – a flipped bit in the last frame is corruption, not a torn write', async () => {
    const dir = tempDir();
    const starts = await writeBatches(dir, 3);
    flip(walFiles(dir).at(-1)!, starts[2]! + 20);
    await expect(WalRaftStorage.open(dir)).rejects.toMatchObject({
      offset: starts[2],
      reason: 'checksum mismatch',
    });
  });

  it('recovery – a damaged length in the last frame is corruption, not a torn write', async () => {
    const dir = tempDir();
    const starts = await writeBatches(dir, 3);
    // The length now claims more bytes than the file has, which alone would look like a torn write.
    flip(walFiles(dir).at(-1)!, starts[2]! + 2, 0x01);
    await expect(WalRaftStorage.open(dir)).rejects.toMatchObject({
      offset: starts[2],
      reason: 'header checksum mismatch',
    });
  });

  it('recovery – a tail of zeros (a file extended before its data landed) is a torn write', async () => {
    const dir = tempDir();
    await writeBatches(dir, 3);
    const file = walFiles(dir).at(-1)!;
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(300)]));
    const s = await WalRaftStorage.open(dir);
    expect((await s.load(1)).entries.map((e) => e.index)).toEqual([1, 2, 3]);
    await s.close();
  });

  it('recovery – a damaged snapshot file stops start-up naming it', async () => {
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    await s.write([{ group: 1, snapshot: { snapshot: snapshot(5, 1, 'the state at 5'), mode: 'install' } }]);
    await s.close();
    const snap = readdirSync(join(dir, 'snap')).find((n) => n.endsWith('.snap'))!;
    flip(join(dir, 'snap', snap), 3);
    const r = await WalRaftStorage.open(dir);
    await expect(r.load(1)).rejects.toThrow(new RegExp(`${snap}.*snapshot checksum mismatch`));
    await r.close();
  });

  it('recovery – segments written before the versioned format are still read; new frames go to a new segment', async () => {
    const dir = tempDir();
    mkdirFor(dir);
    const body = plainPackr().pack([
      [1, 4, 1, [[2, 0, new TextEncoder().encode('old')]]],
      [2, 4, 2, 'a', 1],
    ]);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(body.length, 0);
    header.writeUInt32LE(crc32(body), 4);
    writeFileSync(join(dir, 'wal', '0000000001.wal'), Buffer.concat([header, body]));
    const s = await WalRaftStorage.open(dir);
    const g = await s.load(4);
    expect(g.entries.map((e) => [e.index, e.term])).toEqual([[1, 2]]);
    expect(g.hardState).toEqual({ term: 2, vote: 'a', commit: 1 });
    await s.write([{ group: 4, entries: [entry(2, 2)] }]);
    await s.close();
    expect(walFiles(dir).map((f) => f.slice(-14))).toEqual(['0000000001.wal', '0000000002.wal']);
    const r = await WalRaftStorage.open(dir);
    expect((await r.load(4)).entries.map((e) => e.index)).toEqual([1, 2]);
    await r.close();
  });
});

function mkdirFor(dir: string): void {
  for (const sub of ['wal', 'snap']) {
    const path = join(dir, sub);
    mkdirSync(path, { recursive: true });
  }
}

describe('wal writes – short writes and failed writes', () => {
  it('writes – short writes are continued: a batch is acknowledged only once every byte is on disk', async () => {
    // Regression: write() results were not checked, so a partial frame was acknowledged
    // and the next frame landed after it.
    const dir = tempDir();
    const fs = new FaultyFs();
    fs.shortWriteBytes = 7;
    const s = await WalRaftStorage.open(dir, { fs });
    for (let i = 1; i <= 20; i++) {
      await s.write([
        { group: 1, entries: [entry(i, 1, 'x'.repeat(i * 5))], hardState: { term: 1, vote: 'a', commit: i } },
      ]);
    }
    await s.write([
      { group: 1, snapshot: { snapshot: snapshot(20, 1, 'state'.repeat(20)), mode: 'install' } },
    ]);
    await s.close();
    expect(fs.writes).toBeGreaterThan(100);
    const r = await WalRaftStorage.open(dir);
    const g = await r.load(1);
    expect(new TextDecoder().decode(g.snapshot!.data)).toBe('state'.repeat(20));
    expect(g.hardState?.commit).toBe(20);
    await r.close();
  });

  it('writes – with short writes acknowledged (a test-only switch), recovery finds the hole', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    fs.shortWriteBytes = 7;
    const s = await WalRaftStorage.open(dir, { fs, bugs: bugsForTesting(['wal_acks_short_write']) });
    for (let i = 1; i <= 3; i++) await s.write([{ group: 1, entries: [entry(i, 1, 'y'.repeat(50))] }]);
    await s.close();
    await expect(WalRaftStorage.open(dir)).rejects.toBeInstanceOf(WalCorruptionError);
  });

  it('writes – a failed write (ENOSPC after a partial frame) fails the storage for good; recovery cuts the torn frame', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = await WalRaftStorage.open(dir, { fs });
    for (let i = 1; i <= 5; i++)
      await s.write([{ group: 1, entries: [entry(i, 1)], hardState: { term: 1, vote: 'a', commit: i } }]);
    fs.failNext = { code: 'ENOSPC', partial: 9 };
    await expect(s.write([{ group: 1, entries: [entry(6, 1)] }])).rejects.toMatchObject({ code: 'ENOSPC' });
    const size = statSync(walFiles(dir).at(-1)!).size;
    // Space is back, but nothing more is written on top of a write whose outcome is unknown.
    await expect(s.write([{ group: 1, entries: [entry(6, 1)] }])).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(statSync(walFiles(dir).at(-1)!).size).toBe(size);
    await s.close();
    const r = await WalRaftStorage.open(dir);
    const g = await r.load(1);
    expect(g.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(g.hardState?.commit).toBe(5);
    await r.close();
  });

  it('writes – an I/O error is never retried', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = await WalRaftStorage.open(dir, { fs });
    await s.write([{ group: 1, entries: [entry(1, 1)] }]);
    fs.failNext = { code: 'EIO', partial: 0 };
    const writes = fs.writes;
    await expect(s.write([{ group: 1, entries: [entry(2, 1)] }])).rejects.toMatchObject({ code: 'EIO' });
    await expect(s.write([{ group: 1, entries: [entry(2, 1)] }])).rejects.toThrow(/EIO/);
    expect(fs.writes).toBe(writes + 1);
    await s.close();
  });
});

describe('wal groups – removal tombstones', () => {
  it("groups – removed, then re-added from a snapshot older than the old replica's compaction: the node restarts", async () => {
    // Regression: recovery compared the old replica's compaction with the new replica's newest
    // snapshot and refused to start ("snapshot … newer than the newest one").
    const dir = tempDir();
    const s = await WalRaftStorage.open(dir);
    for (let i = 1; i <= 10; i++) await s.write([{ group: 3, entries: [entry(i, 2)] }]);
    await s.write([{ group: 3, snapshot: { snapshot: snapshot(9, 2, 'old@9'), mode: 'compact' } }]);
    await s.compactionsSettled();
    await s.write([{ group: 3, hardState: { term: 4, vote: 'a', commit: 10 } }]);
    await s.removeGroup(3, 5);
    expect(s.tombstone(3)).toBe(5);
    await s.write([
      {
        group: 3,
        snapshot: { snapshot: snapshot(6, 6, 'new@6'), mode: 'install' },
        entries: [entry(7, 6)],
        hardState: { term: 6, vote: null, commit: 6 },
      },
    ]);
    await s.write([{ group: 3, snapshot: { snapshot: snapshot(7, 6, 'new@7'), mode: 'compact' } }]);
    await s.close();
    const r = await WalRaftStorage.open(dir);
    const g = await r.load(3);
    expect(g.snapshot?.meta.index).toBe(7);
    expect(new TextDecoder().decode(g.snapshot!.data)).toBe('new@7');
    expect(g.hardState).toEqual({ term: 6, vote: null, commit: 6 });
    expect(g.entries).toEqual([]);
    await r.close();
  });

  it('groups – a removed group keeps its snapshot file until the removal is durable, whatever else is written meanwhile', async () => {
    // Regression (found by the simulator's hell profile): a write already queued when a group was removed
    // deleted that group's snapshot file before the removal record was durable; after a crash there the
    // node refused to start (its log named a file that was gone).
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = await WalRaftStorage.open(dir, { fs });
    for (let i = 1; i <= 10; i++) await s.write([{ group: 1, entries: [entry(i, 1)] }]);
    await s.write([{ group: 1, snapshot: { snapshot: snapshot(9, 1, 'one@9'), mode: 'compact' } }]);
    await s.compactionsSettled();
    const queued = s.write([
      { group: 2, snapshot: { snapshot: snapshot(5, 1, 'two@5'), mode: 'install' }, entries: [entry(6, 1)] },
    ]);
    // The removal record is the write after the queued one: it fails, as a crash would lose it.
    fs.failAtWalWrite = { n: fs.walWrites + 2, code: 'EIO' };
    const removal = s.removeGroup(1, 2);
    await queued;
    await expect(removal).rejects.toMatchObject({ code: 'EIO' });
    await s.close();
    const r = await WalRaftStorage.open(dir);
    const g = await r.load(1);
    expect(g.snapshot?.meta.index).toBe(9);
    expect(new TextDecoder().decode(g.snapshot!.data)).toBe('one@9');
    expect((await r.load(2)).snapshot?.meta.index).toBe(5);
    await r.close();
  });

  it('groups – the tombstone term survives restarts and segment rotation until the group returns', async () => {
    const dir = tempDir();
    const options = { segment_bytes_max: 400, segments_retained_max: 1 };
    const s = await WalRaftStorage.open(dir, options);
    await s.write([{ group: 8, entries: [entry(1, 3)], hardState: { term: 7, vote: 'b', commit: 1 } }]);
    await s.removeGroup(8, 9);
    // Another group writes enough to rotate segments many times; old segments are reclaimed.
    for (let i = 1; i <= 60; i++) {
      await s.write([{ group: 1, entries: [entry(i, 1, 'z'.repeat(40))] }]);
      if (i % 10 === 0)
        await s.write([{ group: 1, snapshot: { snapshot: snapshot(i, 1, 's'), mode: 'compact' } }]);
      await s.compactionsSettled();
    }
    expect(walFiles(dir).length).toBeLessThanOrEqual(3);
    await s.close();
    const r = await WalRaftStorage.open(dir, options);
    expect(r.groups()).toEqual([1]);
    expect(r.tombstone(8)).toBe(9);
    await r.close();
  });
});
