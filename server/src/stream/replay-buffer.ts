import type { VersionGroup } from './encoded-group.js';

interface Ring {
  groups: VersionGroup[];
  /** Index of the oldest live group in `groups` (dropped ones are sliced lazily). */
  head: number;
  frames: number;
  bytes: number;
}

/**
 * Recent event groups per context, so a reconnecting subscriber can resume
 * from its cursor. Bounded per context (versions) and in total (frames and
 * estimated bytes); when a total is exceeded the least recently active
 * contexts lose their oldest groups first. What is not held any more yields a `gap` for old cursors.
 */
export class ReplayBuffer {
  private readonly rings = new Map<string, Ring>();
  private totalFrames = 0;
  private totalBytes = 0;

  constructor(
    private readonly versionsPerContextMax: number,
    private readonly framesTotalMax: number,
    private readonly bytesTotalMax: number = Number.POSITIVE_INFINITY,
  ) {
    if (versionsPerContextMax < 1 || framesTotalMax < 1 || bytesTotalMax < 1)
      throw new Error('replay buffer bounds must be positive');
  }

  append(contextId: string, group: VersionGroup): void {
    let ring = this.rings.get(contextId);
    if (ring) {
      // Re-insert so Map order is least recently active first.
      this.rings.delete(contextId);
      const last = ring.groups[ring.groups.length - 1];
      if (last && group.version <= last.version) {
        throw new Error(`replay buffer: version ${group.version} after ${last.version} for ${contextId}`);
      }
      if (last && group.version !== last.version + 1) {
        // Continuity is broken (e.g. state restored from a snapshot): older groups cannot be replayed.
        this.totalFrames -= ring.frames;
        this.totalBytes -= ring.bytes;
        ring = { groups: [], head: 0, frames: 0, bytes: 0 };
      }
    } else {
      ring = { groups: [], head: 0, frames: 0, bytes: 0 };
    }
    this.rings.set(contextId, ring);
    ring.groups.push(group);
    ring.frames += group.frameCount;
    ring.bytes += group.bytes;
    this.totalFrames += group.frameCount;
    this.totalBytes += group.bytes;
    while (ring.groups.length - ring.head > this.versionsPerContextMax) this.dropOldest(contextId, ring);
    this.compact(ring);
    this.enforceTotal();
  }

  /** The oldest version still held for a context, or undefined when nothing is. */
  oldestVersion(contextId: string): number | undefined {
    const ring = this.rings.get(contextId);
    return ring && ring.head < ring.groups.length ? ring.groups[ring.head]!.version : undefined;
  }

  /** Groups with version > cursor, oldest first. */
  *after(contextId: string, cursor: number): Iterable<VersionGroup> {
    const ring = this.rings.get(contextId);
    if (!ring) return;
    // Versions are dense within a ring, so the start is found by arithmetic.
    const first = ring.groups[ring.head];
    if (!first) return;
    let i = ring.head + Math.max(0, cursor + 1 - first.version);
    for (; i < ring.groups.length; i++) yield ring.groups[i]!;
  }

  forget(contextId: string): void {
    const ring = this.rings.get(contextId);
    if (!ring) return;
    this.totalFrames -= ring.frames;
    this.totalBytes -= ring.bytes;
    this.rings.delete(contextId);
  }

  frameCount(): number {
    return this.totalFrames;
  }

  byteCount(): number {
    return this.totalBytes;
  }

  private dropOldest(contextId: string, ring: Ring): void {
    const dropped = ring.groups[ring.head]!;
    ring.head++;
    ring.frames -= dropped.frameCount;
    ring.bytes -= dropped.bytes;
    this.totalFrames -= dropped.frameCount;
    this.totalBytes -= dropped.bytes;
    if (ring.head >= ring.groups.length) this.rings.delete(contextId);
  }

  private compact(ring: Ring): void {
    if (ring.head > 64 && ring.head * 2 > ring.groups.length) {
      ring.groups = ring.groups.slice(ring.head);
      ring.head = 0;
    }
  }

  private enforceTotal(): void {
    while (this.totalFrames > this.framesTotalMax || this.totalBytes > this.bytesTotalMax) {
      const oldest = this.rings.entries().next();
      if (oldest.done) return;
      const [id, ring] = oldest.value;
      this.dropOldest(id, ring);
      if (this.rings.get(id) === ring) this.compact(ring);
    }
  }
}
