import type { Entry, GroupId, HardState, SnapshotMeta } from '../raft/types.js';
import type { GroupWrite, PersistedGroup, RaftStorage } from '../replication/storage/raft-storage.js';
import { entryHash } from './hash.js';

interface ModelGroup {
  hard: HardState | undefined;
  /** The last snapshot that replaced the log (a leader's, or the group's founding state). */
  install: SnapshotMeta | undefined;
  /** Compaction snapshots since: storage records these in the background, so any of them may be loaded. */
  compactions: SnapshotMeta[];
  /** Every entry after `install` (compaction drops none here), by index. */
  entries: Map<number, { term: number; hash: number }>;
  last: number;
  replica: string | undefined;
}

type Op =
  | { readonly kind: 'write'; readonly batch: readonly GroupWrite[] }
  | { readonly kind: 'remove'; readonly group: GroupId; readonly term: number };

interface Model {
  groups: Map<GroupId, ModelGroup>;
  tombstones: Map<GroupId, number>;
}

/**
 * What one node's storage has promised, as a model of the storage contract
 * alone: every write the storage acknowledged is applied to the model, in
 * order. When the node restarts, what the real write-ahead log loads must
 * equal the model after all acknowledged writes plus some prefix of the writes
 * that were in flight at the crash (one frame each, so the same prefix for
 * every group), up to compaction snapshots, which storage records in the
 * background. A write-ahead log that loses, reorders, half-applies or invents
 * state fails this check at the next restart.
 */
export class DurabilityOracle {
  private model: Model = { groups: new Map(), tombstones: new Map() };
  private pending: Op[] = [];
  /** Operations in flight when the last process died. */
  private uncertain: Op[] = [];

  /**
   * Wraps a new process's storage so its loads are checked (before its first
   * write) and its writes are observed. `onViolation` hears of a difference.
   */
  observe(storage: RaftStorage, onViolation: (message: string) => void): ObservedStorage {
    this.uncertain = [...this.uncertain, ...this.pending];
    this.pending = [];
    return new ObservedStorage(storage, this, onViolation);
  }

  issued(op: Op): void {
    this.pending.push(op);
  }

  /** The storage resolved its oldest outstanding operation. */
  acknowledged(op: Op): void {
    const head = this.pending.shift();
    if (head !== op) throw new Error('durability oracle: storage acknowledged operations out of order');
    applyOp(this.model, op);
  }

  /**
   * Compares what a restarted process loaded with the model. Returns a
   * description of the first difference, or undefined when some prefix of the
   * uncertain writes explains the loaded state.
   */
  check(
    loaded: ReadonlyMap<GroupId, PersistedGroup>,
    tombstone: (g: GroupId) => number | undefined,
  ): string | undefined {
    let first: string | undefined;
    let model = cloneModel(this.model);
    for (let k = 0; ; k++) {
      const problem = compare(model, loaded, tombstone);
      if (problem === undefined) {
        // The prefix that landed is now part of what is durable.
        this.model = model;
        this.uncertain = [];
        return undefined;
      }
      first ??= problem;
      if (k >= this.uncertain.length) return first;
      applyOp(model, this.uncertain[k]!);
      model = cloneModel(model);
    }
  }

  /** The disk was wiped: nothing is promised any more. */
  reset(): void {
    this.model = { groups: new Map(), tombstones: new Map() };
    this.pending = [];
    this.uncertain = [];
  }
}

/** Storage that reports what it was asked to write and what it loaded. */
export class ObservedStorage implements RaftStorage {
  private readonly loaded = new Map<GroupId, PersistedGroup>();
  private checked = false;

  constructor(
    readonly inner: RaftStorage,
    private readonly oracle: DurabilityOracle,
    private readonly onViolation: (message: string) => void,
  ) {}

  /** Compares what this process loaded with what its predecessors were promised (once, before any write). */
  checkLoads(): void {
    if (this.checked) return;
    this.checked = true;
    const problem = this.oracle.check(this.loaded, (g) => this.inner.tombstone(g));
    if (problem) this.onViolation(problem);
  }

  groups(): GroupId[] {
    return this.inner.groups();
  }

  async load(group: GroupId): Promise<PersistedGroup> {
    const p = await this.inner.load(group);
    this.loaded.set(group, p);
    return p;
  }

  write(batch: readonly GroupWrite[]): Promise<void> {
    this.checkLoads();
    const op: Op = { kind: 'write', batch };
    const run = this.inner.write(batch);
    this.oracle.issued(op);
    return run.then(() => this.oracle.acknowledged(op));
  }

  removeGroup(group: GroupId, term: number): Promise<void> {
    this.checkLoads();
    const op: Op = { kind: 'remove', group, term };
    const run = this.inner.removeGroup(group, term);
    this.oracle.issued(op);
    return run.then(() => this.oracle.acknowledged(op));
  }

  tombstone(group: GroupId): number | undefined {
    return this.inner.tombstone(group);
  }

  groupsPinningOldLog(): GroupId[] {
    return this.inner.groupsPinningOldLog();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function applyOp(model: Model, op: Op): void {
  if (op.kind === 'remove') {
    model.groups.delete(op.group);
    model.tombstones.set(op.group, Math.max(op.term, model.tombstones.get(op.group) ?? 0));
    return;
  }
  for (const w of op.batch) {
    let g = model.groups.get(w.group);
    if (!g) {
      g = {
        hard: undefined,
        install: undefined,
        compactions: [],
        entries: new Map(),
        last: 0,
        replica: undefined,
      };
      model.groups.set(w.group, g);
    }
    if (w.replica !== undefined) g.replica = w.replica;
    if (w.snapshot) {
      const meta = w.snapshot.snapshot.meta;
      if (w.snapshot.mode === 'install') {
        g.install = meta;
        g.compactions = [];
        g.entries.clear();
        g.last = meta.index;
      } else {
        g.compactions.push(meta);
      }
    }
    if (w.entries && w.entries.length > 0) {
      const from = w.entries[0]!.index;
      for (let i = from; i <= g.last; i++) g.entries.delete(i);
      for (const e of w.entries) g.entries.set(e.index, { term: e.term, hash: hashOf(e) });
      g.last = w.entries[w.entries.length - 1]!.index;
    }
    if (w.hardState) g.hard = w.hardState;
  }
}

function cloneModel(m: Model): Model {
  const groups = new Map<GroupId, ModelGroup>();
  for (const [id, g] of m.groups) {
    groups.set(id, { ...g, compactions: [...g.compactions], entries: new Map(g.entries) });
  }
  return { groups, tombstones: new Map(m.tombstones) };
}

function compare(
  model: Model,
  loaded: ReadonlyMap<GroupId, PersistedGroup>,
  tombstone: (g: GroupId) => number | undefined,
): string | undefined {
  for (const [id, g] of model.groups) {
    if ((g.hard || g.install) && !loaded.has(id)) return `group ${id} was durable but did not load`;
  }
  for (const [id, p] of loaded) {
    const g = model.groups.get(id);
    if (!g) return `group ${id} loaded but was never durably written`;
    const problem = compareGroup(g, p);
    if (problem) return `group ${id}: ${problem}`;
  }
  for (const [id, term] of model.tombstones) {
    if (!model.groups.has(id) && tombstone(id) !== term) {
      return `group ${id}: tombstone ${String(tombstone(id))}, ${term} was durable`;
    }
  }
  return undefined;
}

function compareGroup(g: ModelGroup, p: PersistedGroup): string | undefined {
  if (p.replica !== g.replica) return `replica ${String(p.replica)}, durable ${String(g.replica)}`;
  const h = p.hardState;
  if (h?.term !== g.hard?.term || h?.vote !== g.hard?.vote || h?.commit !== g.hard?.commit) {
    return `hard state ${JSON.stringify(h)}, durable ${JSON.stringify(g.hard)}`;
  }
  const snap = p.snapshot?.meta;
  const same = (a: SnapshotMeta | undefined) =>
    a !== undefined &&
    snap !== undefined &&
    a.index === snap.index &&
    a.term === snap.term &&
    a.checksum === snap.checksum;
  if (snap === undefined) {
    if (g.install !== undefined)
      return `no snapshot loaded, ${g.install.index}@${g.install.term} was durable`;
  } else if (!same(g.install) && !g.compactions.some(same)) {
    return `snapshot ${snap.index}@${snap.term} was never written`;
  } else if (!same(g.install)) {
    const at = g.entries.get(snap.index);
    if (at && at.term !== snap.term)
      return `compaction ${snap.index}@${snap.term} over entry of term ${at.term}`;
  }
  const base = snap?.index ?? 0;
  const last = p.entries.length > 0 ? p.entries[p.entries.length - 1]!.index : base;
  if (last !== Math.max(g.last, base)) return `log ends at ${last}, durable log ends at ${g.last}`;
  for (const e of p.entries) {
    const m = g.entries.get(e.index);
    if (!m || m.term !== e.term || m.hash !== hashOf(e))
      return `entry ${e.index}@${e.term} differs from the durable one`;
  }
  return undefined;
}

function hashOf(e: Entry): number {
  return entryHash(e.type, e.data);
}
