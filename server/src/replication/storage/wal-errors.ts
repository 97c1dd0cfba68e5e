/** A write that breaks the log, or a write to a closed or failed storage: a programmer error or a dead disk. */
export class WalStorageError extends Error {
  override name = 'WalStorageError';
}

/** Damage found while opening the log. Start-up stops; the node must be rebuilt or restored. */
export class WalCorruptionError extends WalStorageError {
  override name = 'WalCorruptionError';
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `raft log ${path} is corrupt at byte ${offset} (${reason}); refusing to start rather than ` +
        'drop acknowledged entries. Rebuild this node from its peers (cluster) or restore the data directory from a backup',
    );
  }
}
