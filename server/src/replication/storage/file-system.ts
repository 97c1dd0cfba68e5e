import { constants, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';

/**
 * The few file operations the write-ahead log needs. Production passes
 * `nodeFileSystem`; the simulator passes a disk that tears writes, flips
 * bits, runs out of space and forgets what was never synced.
 *
 * Durability follows POSIX, strictly: a file's bytes are durable after
 * `sync()` (or when a `dsync` write resolves), and a directory's entries
 * (creations, renames, removals) only after `syncDir()`.
 */
export interface FileSystem {
  mkdirp(dir: string): Promise<void>;
  /** Names in a directory (not paths). */
  list(dir: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Opens a file whose writes append at its end. With `dsync`, each write is
   * durable when it resolves (O_DSYNC). `create` creates it if missing; an
   * existing file is kept as it is.
   */
  openAppend(path: string, options: { create: boolean; dsync: boolean }): Promise<AppendFile>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
}

export interface AppendFile {
  /**
   * Appends `data`. Like write(2) it may write only a prefix and return how
   * many bytes it wrote, or throw (ENOSPC, EIO) after writing a prefix.
   */
  write(data: Uint8Array): Promise<number>;
  sync(): Promise<void>;
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The real file system (`node:fs`). */
export const nodeFileSystem: FileSystem = {
  async mkdirp(dir) {
    await mkdir(dir, { recursive: true });
  },
  list: (dir) => readdir(dir),
  readFile: (path) => readFile(path),
  async openAppend(path, options) {
    let flags = constants.O_WRONLY | constants.O_APPEND;
    if (options.create) flags |= constants.O_CREAT;
    if (options.dsync) flags |= constants.O_DSYNC;
    const handle = await open(path, flags);
    return {
      write: async (data) => (await handle.write(data)).bytesWritten,
      sync: () => handle.sync(),
      truncate: (size) => handle.truncate(size),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  async syncDir(dir) {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
