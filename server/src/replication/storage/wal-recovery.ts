import type { BugSwitches } from '../../raft/bugs.js';
import { type FileSystem, joinPath } from './file-system.js';
import { WalCorruptionError } from './wal-errors.js';
import { type ScannedFrame, scanSegment } from './wal-format.js';

export const SEGMENT_NAME = /^(\d{10})\.wal$/;

/** One segment as recovery found it, after any torn tail was cut. */
export interface RecoveredSegment {
  readonly seq: number;
  readonly path: string;
  /** Its length once the torn tail, if any, is cut. */
  readonly bytes: number;
  readonly frames: ScannedFrame[];
  readonly version: 1 | 2;
}

/**
 * Reads every segment in `walDir`, oldest first, applying the one recovery
 * rule: a crash tears at most the last write, so a bad frame at the end of the
 * newest segment with nothing valid after it is cut (and a segment whose
 * creation was torn is deleted). Anything else is damage to acknowledged data:
 * `WalCorruptionError` names the file and offset, and start-up stops.
 */
export async function recoverSegments(
  fs: FileSystem,
  walDir: string,
  bugs: BugSwitches,
): Promise<RecoveredSegment[]> {
  const names = (await fs.list(walDir)).filter((n) => SEGMENT_NAME.test(n)).sort();
  const out: RecoveredSegment[] = [];
  for (const [i, name] of names.entries()) {
    const path = joinPath(walDir, name);
    const last = i === names.length - 1;
    const scan = scanSegment(await fs.readFile(path));
    if (scan.end.kind !== 'clean') {
      const { at, reason } = scan.end;
      const cut = last && (scan.end.kind === 'torn' || bugs.wal_truncates_valid_frames);
      if (!cut) throw new WalCorruptionError(path, at, reason);
      if (at === 0 && scan.frames.length === 0) {
        // A segment whose creation was torn: nothing in it was ever acknowledged.
        await fs.remove(path);
        await fs.syncDir(walDir);
        continue;
      }
      // A torn write at the tail: nothing in it was ever acknowledged.
      const file = await fs.openAppend(path, { create: false, dsync: false });
      try {
        await file.truncate(at);
        await file.sync();
      } finally {
        await file.close();
      }
    }
    if (scan.version === 1 && out.some((s) => s.version === 2)) {
      throw new WalCorruptionError(path, 0, 'segment without a header after versioned segments');
    }
    out.push({
      seq: Number(name.slice(0, 10)),
      path,
      bytes: scan.validBytes,
      frames: scan.frames,
      version: scan.version,
    });
  }
  return out;
}
