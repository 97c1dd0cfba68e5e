import type { PersistedState } from '../../src/raft/replica-init.js';
import type { Entry, GroupId, HardState, PersistAck, Ready, Snapshot } from '../../src/raft/types.js';

/** What one group's write asks of the disk (the persistence part of a Ready). */
interface GroupWrite {
  readonly group: GroupId;
  readonly snapshot: Ready['snapshot'];
  readonly entries: readonly Entry[];
  readonly hard_state: HardState | null;
}

interface PendingWrite {
  readonly id: number;
  readonly groups: readonly GroupWrite[];
  readonly acks: readonly PersistAck[];
}

interface DurableGroup {
  hard_state: HardState | null;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[];
}

/**
 * The storage contract of the Raft core as an in-memory model, for transcript
 * tests that drive replicas by hand: a write is first "written" and becomes
 * durable later, in issue order; a crash throws away everything not yet
 * durable. Each write is atomic. (The simulator runs the real write-ahead log
 * on a simulated disk instead.)
 */
export class ModelStorage {
  private readonly durable = new Map<GroupId, DurableGroup>();
  private readonly tombstones = new Map<GroupId, number>();
  private pending: PendingWrite[] = [];
  private nextId = 1;

  /** Queues a write; returns its id, or 0 when the ready had nothing to persist. */
  submit(readies: readonly Ready[]): number {
    const groups: GroupWrite[] = [];
    const acks: PersistAck[] = [];
    for (const r of readies) {
      if (r.ack === null) continue;
      groups.push({ group: r.group, snapshot: r.snapshot, entries: r.entries, hard_state: r.hard_state });
      acks.push(r.ack);
    }
    if (acks.length === 0) return 0;
    const id = this.nextId++;
    this.pending.push({ id, groups, acks });
    return id;
  }

  /** Makes the oldest pending write durable (writes complete in order) and returns its acknowledgements. */
  complete(id: number): readonly PersistAck[] {
    const w = this.pending[0];
    if (!w || w.id !== id) throw new Error(`disk: write ${id} completed out of order`);
    this.pending.shift();
    for (const g of w.groups) this.applyGroup(g);
    return w.acks;
  }

  /** The process died: unsynced writes are gone. */
  crash(): void {
    this.pending = [];
  }

  pendingCount(): number {
    return this.pending.length;
  }

  groups(): GroupId[] {
    return [...this.durable.keys()];
  }

  has(group: GroupId): boolean {
    return this.durable.has(group);
  }

  load(group: GroupId): PersistedState {
    const d = this.durable.get(group);
    if (!d) return { hard_state: null, snapshot: null, entries: [] };
    return { hard_state: d.hard_state, snapshot: d.snapshot, entries: d.entries.slice() };
  }

  hardState(group: GroupId): HardState | null {
    return this.durable.get(group)?.hard_state ?? null;
  }

  /** Writes a group's initial state directly (group creation is durable before the group starts). */
  bootstrap(group: GroupId, state: PersistedState): void {
    this.durable.set(group, {
      hard_state: state.hard_state,
      snapshot: state.snapshot,
      entries: state.entries.slice(),
    });
  }

  /** Deletes a group's state, remembering the highest term it reached. */
  destroy(group: GroupId, term: number): void {
    const d = this.durable.get(group);
    const t = Math.max(term, d?.hard_state?.term ?? 0, this.tombstones.get(group) ?? 0);
    this.tombstones.set(group, t);
    this.durable.delete(group);
    // Writes of the destroyed replica still in flight must not resurrect it.
    this.pending = this.pending.map((w) => ({
      id: w.id,
      groups: w.groups.filter((g) => g.group !== group),
      acks: w.acks.filter((a) => a.group !== group),
    }));
  }

  tombstone(group: GroupId): number | undefined {
    return this.tombstones.get(group);
  }

  private applyGroup(w: GroupWrite): void {
    let d = this.durable.get(w.group);
    if (!d) {
      d = { hard_state: null, snapshot: null, entries: [] };
      this.durable.set(w.group, d);
    }
    if (w.snapshot) {
      const { snapshot, mode } = w.snapshot;
      d.snapshot = snapshot;
      const idx = snapshot.meta.index;
      d.entries = mode === 'install' ? [] : d.entries.filter((e) => e.index > idx);
    }
    const base = d.snapshot?.meta.index ?? 0;
    // Entries the snapshot already covers are redundant (possible only when applying ran ahead of the log).
    const entries =
      w.entries.length > 0 && w.entries[0]!.index <= base
        ? w.entries.filter((e) => e.index > base)
        : w.entries;
    if (entries.length > 0) {
      const first = entries[0]!.index;
      const last = base + d.entries.length;
      if (first > last + 1)
        throw new Error(`disk: group ${w.group} write at ${first} leaves a gap after ${last}`);
      d.entries.length = first - base - 1;
      for (const e of entries) d.entries.push(e);
    }
    if (w.hard_state) d.hard_state = w.hard_state;
  }
}
