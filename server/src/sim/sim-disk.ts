import type { Prng } from '../raft/prng.js';
import type { AppendFile, FileSystem } from '../replication/storage/file-system.js';

/** Storage faults a disk injects, as probabilities per operation (or per crash). */
export interface DiskFaults {
  /** A write takes only part of its bytes (the caller must write the rest). */
  shortWrite: number;
  /** A write fails with EIO (after landing a random part of its bytes). */
  writeError: number;
  /** An fsync fails with EIO: whatever it was to make durable is not. */
  syncError: number;
  /** A completed write lands with one bit flipped (the disk lied). */
  writtenBitFlip: number;
}

export const NO_DISK_FAULTS: DiskFaults = Object.freeze({
  shortWrite: 0,
  writeError: 0,
  syncError: 0,
  writtenBitFlip: 0,
});

/** Where a fault damaged stored bytes: recovery may refuse to start there, and nowhere else. */
export interface Damage {
  readonly path: string;
  readonly offset: number;
}

interface Inode {
  data: Uint8Array;
  length: number;
  /** Bytes [0, durable) are on disk; the rest is in the page cache. */
  durable: number;
  /** Offsets of bits flipped by faults. */
  flips: number[];
}

interface Dir {
  /** The names a process sees. */
  entries: Map<string, Inode>;
  /** The names that survive a crash, and the namespace operations since, in order. */
  durable: Map<string, Inode>;
  pending: { name: string; inode: Inode | undefined }[];
}

type OpResult = { ok: true; value: unknown } | { ok: false; error: Error };

/**
 * One node's disk in the simulation: it outlives the node's processes and is
 * lost only when the simulation wipes it. It follows POSIX durability
 * strictly (file bytes after fsync or an O_DSYNC write; directory entries
 * only after fsync of the directory) and injects the faults of `DiskFaults`,
 * torn writes and lost unsynced data on crashes, bit flips at rest, and
 * running out of space. Operations complete in order after a random latency,
 * as on one device queue; a crashed process's operations never complete.
 */
export class SimDisk {
  private readonly dirs = new Map<string, Dir>();
  private busyUntil = 0;
  /** Bytes the disk holds at most; writes beyond it fail with ENOSPC. */
  capacity = Number.POSITIVE_INFINITY;
  faults: DiskFaults = NO_DISK_FAULTS;
  /** Faults injected so far, by kind (for coverage). */
  readonly injected = { torn: 0, lost: 0, short: 0, eio: 0, enospc: 0, flips: 0 };
  /** Writes in flight: on a crash each lands a random prefix. */
  private readonly inflight = new Set<{ inode: Inode; data: Uint8Array; dsync: boolean; epoch: number }>();

  constructor(
    private readonly prng: Prng,
    private readonly latency: { minMs: number; maxMs: number },
    /** Schedules `fn` at virtual time `at` for the process of `epoch` (dropped if it died). */
    private readonly schedule: (at: number, epoch: number, fn: () => void) => void,
    private readonly now: () => number,
  ) {}

  /** The file system view of the process running as `epoch`. */
  view(epoch: number): FileSystem {
    return new SimFileSystem(this, epoch);
  }

  used(): number {
    let n = 0;
    for (const d of this.dirs.values()) for (const inode of d.entries.values()) n += inode.length;
    return n;
  }

  /** The process died: in-flight writes land a random prefix, unsynced data and names are lost in part. */
  crash(): void {
    // In device order: once a write is cut short, nothing after it reaches the same file.
    const cut = new Set<Inode>();
    for (const w of this.inflight) {
      if (cut.has(w.inode)) continue;
      const n = this.prng.int(w.data.length + 1);
      append(w.inode, w.data.subarray(0, n));
      if (w.dsync) w.inode.durable = w.inode.length;
      if (n < w.data.length) {
        cut.add(w.inode);
        if (n > 0) this.injected.torn++;
      }
    }
    this.inflight.clear();
    for (const dir of this.dirs.values()) {
      // A journaling file system commits namespace operations in order: some prefix survives.
      const keep = this.prng.int(dir.pending.length + 1);
      for (const op of dir.pending.slice(0, keep)) {
        if (op.inode) dir.durable.set(op.name, op.inode);
        else dir.durable.delete(op.name);
      }
      if (keep < dir.pending.length) this.injected.lost++;
      dir.pending = [];
      dir.entries = new Map(dir.durable);
      for (const inode of new Set(dir.entries.values())) {
        const unsynced = inode.length - inode.durable;
        if (unsynced > 0) {
          const kept = this.prng.int(unsynced + 1);
          if (kept < unsynced) this.injected.lost++;
          inode.length = inode.durable + kept;
          inode.durable = inode.length;
        }
        inode.flips = inode.flips.filter((at) => at < inode.length);
      }
    }
    this.busyUntil = this.now();
  }

  /** Flips one bit of a random stored byte (while the node is down). Returns where, or undefined. */
  flipAtRest(): Damage | undefined {
    const files: [string, Inode][] = [];
    for (const [dirPath, dir] of this.dirs) {
      for (const [name, inode] of dir.durable)
        if (inode.durable > 0) files.push([`${dirPath}/${name}`, inode]);
    }
    if (files.length === 0) return undefined;
    const [path, inode] = this.prng.pick(files);
    const offset = this.prng.int(inode.durable);
    flipBit(inode, offset, this.prng);
    this.injected.flips++;
    return { path, offset };
  }

  /** Every place a fault damaged a file that still exists. */
  damage(): Damage[] {
    const out: Damage[] = [];
    for (const [dirPath, dir] of this.dirs) {
      for (const [name, inode] of dir.entries)
        for (const offset of inode.flips) out.push({ path: `${dirPath}/${name}`, offset });
    }
    return out;
  }

  // ---- operations, called by SimFileSystem ----------------------------------

  /** Runs `op` when the device gets to it, after a random latency; its result resolves the promise. */
  submit<T>(epoch: number, op: () => OpResult, latencyScale = 1): Promise<T> {
    const { minMs, maxMs } = this.latency;
    const at =
      Math.max(this.busyUntil, this.now()) + (minMs + this.prng.float() * (maxMs - minMs)) * latencyScale;
    this.busyUntil = at;
    return new Promise<T>((resolve, reject) => {
      this.schedule(at, epoch, () => {
        const r = op();
        if (r.ok) resolve(r.value as T);
        else reject(r.error);
      });
    });
  }

  dir(path: string, create = false): Dir | undefined {
    let d = this.dirs.get(path);
    if (!d && create) {
      d = { entries: new Map(), durable: new Map(), pending: [] };
      this.dirs.set(path, d);
    }
    return d;
  }

  lookup(path: string): Inode | undefined {
    const [dir, name] = split(path);
    return this.dirs.get(dir)?.entries.get(name);
  }

  link(path: string, inode: Inode | undefined): void {
    const [dirPath, name] = split(path);
    const dir = this.dir(dirPath);
    if (!dir) throw errno('ENOENT', path);
    if (inode) dir.entries.set(name, inode);
    else dir.entries.delete(name);
    dir.pending.push({ name, inode });
  }

  syncDir(path: string): void {
    const dir = this.dirs.get(path);
    if (!dir) throw errno('ENOENT', path);
    dir.durable = new Map(dir.entries);
    dir.pending = [];
  }

  startWrite(epoch: number, inode: Inode, data: Uint8Array, dsync: boolean): Promise<number> {
    const p = this.prng;
    const copy = data.slice();
    const w = { inode, data: copy, dsync, epoch };
    this.inflight.add(w);
    return this.submit<number>(epoch, () => {
      this.inflight.delete(w);
      const f = this.faults;
      const room = this.capacity - this.used();
      if (room < copy.length) {
        this.injected.enospc++;
        append(inode, copy.subarray(0, Math.max(0, room)));
        if (dsync) inode.durable = inode.length;
        return { ok: false, error: errno('ENOSPC', 'no space left on device') };
      }
      if (p.chance(f.writeError)) {
        this.injected.eio++;
        append(inode, copy.subarray(0, p.int(copy.length + 1)));
        return { ok: false, error: errno('EIO', 'input/output error on write') };
      }
      let n = copy.length;
      if (n > 1 && p.chance(f.shortWrite)) {
        this.injected.short++;
        n = 1 + p.int(n - 1);
      }
      const at = inode.length;
      append(inode, copy.subarray(0, n));
      if (n > 0 && p.chance(f.writtenBitFlip)) {
        this.injected.flips++;
        flipBit(inode, at + p.int(n), p);
      }
      if (dsync) inode.durable = inode.length;
      return { ok: true, value: n };
    });
  }

  sync(epoch: number, inode: Inode): Promise<void> {
    return this.submit<void>(epoch, () => {
      if (this.prng.chance(this.faults.syncError)) {
        this.injected.eio++;
        return { ok: false, error: errno('EIO', 'input/output error on fsync') };
      }
      inode.durable = inode.length;
      return { ok: true, value: undefined };
    });
  }
}

class SimFileSystem implements FileSystem {
  constructor(
    private readonly disk: SimDisk,
    private readonly epoch: number,
  ) {}

  private run<T>(op: () => T, latencyScale = 0.1): Promise<T> {
    return this.disk.submit<T>(
      this.epoch,
      () => {
        try {
          return { ok: true, value: op() };
        } catch (error) {
          return { ok: false, error: error as Error };
        }
      },
      latencyScale,
    );
  }

  mkdirp(dir: string): Promise<void> {
    return this.run(() => {
      this.disk.dir(dir, true);
    });
  }

  list(dir: string): Promise<string[]> {
    return this.run(() => {
      const d = this.disk.dir(dir);
      if (!d) throw errno('ENOENT', dir);
      return [...d.entries.keys()];
    });
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.run(() => {
      const inode = this.disk.lookup(path);
      if (!inode) throw errno('ENOENT', path);
      return inode.data.slice(0, inode.length);
    });
  }

  openAppend(path: string, options: { create: boolean; dsync: boolean }): Promise<AppendFile> {
    return this.run(() => {
      let inode = this.disk.lookup(path);
      if (!inode) {
        if (!options.create) throw errno('ENOENT', path);
        inode = { data: new Uint8Array(64), length: 0, durable: 0, flips: [] };
        this.disk.link(path, inode);
      }
      return this.file(inode, options.dsync);
    });
  }

  private file(inode: Inode, dsync: boolean): AppendFile {
    const { disk, epoch } = this;
    return {
      write: (data) => disk.startWrite(epoch, inode, data, dsync),
      sync: () => disk.sync(epoch, inode),
      truncate: (size) =>
        this.run(() => {
          // Truncation is made durable at once: recovery follows it with an fsync anyway.
          inode.length = Math.min(inode.length, size);
          inode.durable = Math.min(inode.durable, inode.length);
          inode.flips = inode.flips.filter((at) => at < inode.length);
        }),
      close: () => this.run(() => undefined),
    };
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(() => {
      const inode = this.disk.lookup(from);
      if (!inode) throw errno('ENOENT', from);
      this.disk.link(to, inode);
      this.disk.link(from, undefined);
    });
  }

  remove(path: string): Promise<void> {
    return this.run(() => {
      if (this.disk.lookup(path)) this.disk.link(path, undefined);
    });
  }

  syncDir(dir: string): Promise<void> {
    return this.run(() => this.disk.syncDir(dir), 1);
  }
}

function append(inode: Inode, bytes: Uint8Array): void {
  const need = inode.length + bytes.length;
  if (need > inode.data.length) {
    const grown = new Uint8Array(Math.max(need, inode.data.length * 2));
    grown.set(inode.data.subarray(0, inode.length));
    inode.data = grown;
  }
  inode.data.set(bytes, inode.length);
  inode.length = need;
}

function flipBit(inode: Inode, offset: number, prng: Prng): void {
  inode.data[offset] = inode.data[offset]! ^ (1 << prng.int(8));
  inode.flips.push(offset);
}

function split(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return [path.slice(0, i), path.slice(i + 1)];
}

function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
