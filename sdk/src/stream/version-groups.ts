import type { GroupFrame } from './frames.js';

/**
 * Collects the frames of one version until the frame that closes the group
 * (`context`, or `tombstoned`) arrives. Handing out whole groups only is what
 * lets a reconnect resume from the last complete version without showing the
 * consumer a frame twice: a group cut by a dropped connection is discarded
 * and replayed in full.
 */
export class VersionGroups {
  private pending: GroupFrame[] = [];

  /** Adds a frame; returns the group it completes, if it does. Throws on frames that break the grouping. */
  push(frame: GroupFrame): GroupFrame[] | undefined {
    const first = this.pending[0];
    if (first && first.version !== frame.version) {
      const version = first.version;
      this.pending = [];
      throw new Error(`version ${version} ended without a context frame before version ${frame.version}`);
    }
    this.pending.push(frame);
    if (frame.type !== 'context' && frame.type !== 'tombstoned') return undefined;
    const group = this.pending;
    this.pending = [];
    return group;
  }

  /** Drops a partial group (its connection is gone; the server will replay it). */
  clear(): void {
    this.pending = [];
  }

  get size(): number {
    return this.pending.length;
  }
}
