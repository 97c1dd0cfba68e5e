import {
  type AppendFile,
  type FileSystem,
  nodeFileSystem,
} from '../../../src/replication/storage/file-system.js';

/** The real file system, with faults injected into appends. */
export class FaultyFs implements FileSystem {
  /** Every write takes at most this many bytes (a short write). */
  shortWriteBytes = Number.POSITIVE_INFINITY;
  /** The next write to a segment takes `partial` bytes, then fails with `code`. */
  failNext: { code: 'EIO' | 'ENOSPC'; partial: number } | undefined;
  writes = 0;
  /** Writes to segments so far; `failAtWalWrite` fails the one with that number (1-based). */
  walWrites = 0;
  failAtWalWrite: { n: number; code: 'EIO' | 'ENOSPC' } | undefined;

  mkdirp = nodeFileSystem.mkdirp;
  list = nodeFileSystem.list;
  readFile = nodeFileSystem.readFile;
  rename = nodeFileSystem.rename;
  remove = nodeFileSystem.remove;
  syncDir = nodeFileSystem.syncDir;

  async openAppend(path: string, options: { create: boolean; dsync: boolean }): Promise<AppendFile> {
    const inner = await nodeFileSystem.openAppend(path, options);
    return {
      write: async (data) => {
        this.writes++;
        if (path.endsWith('.wal') && ++this.walWrites === this.failAtWalWrite?.n) {
          const code = this.failAtWalWrite.code;
          throw Object.assign(new Error(`${code}: injected`), { code });
        }
        const fault = path.endsWith('.wal') ? this.failNext : undefined;
        if (fault) {
          this.failNext = undefined;
          if (fault.partial > 0) await inner.write(data.subarray(0, fault.partial));
          throw Object.assign(new Error(`${fault.code}: injected`), { code: fault.code });
        }
        return inner.write(data.subarray(0, Math.min(data.length, this.shortWriteBytes)));
      },
      sync: () => inner.sync(),
      truncate: (size) => inner.truncate(size),
      close: () => inner.close(),
    };
  }
}
