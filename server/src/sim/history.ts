import type { GroupId } from '../raft/types.js';
import { Violation } from './checkers.js';
import { checkRegister, type RegisterOp } from './linearizability.js';

/** One client operation as the client saw it. */
export interface ClientOp {
  readonly id: string;
  readonly client: number;
  readonly group: GroupId;
  readonly kind: 'put' | 'get' | 'append' | 'read_log' | 'probe';
  readonly key: string;
  /** put: the value written; get: the value read (null = never written). */
  value: string | null;
  readonly invoke: number;
  /** Infinity while (or if forever) the outcome is unknown. */
  complete: number;
  acked: boolean;
  /** append: the position in the log; read_log: the log length read. */
  result: number;
}

export interface HistoryReport {
  readonly registers: number;
}

/**
 * Checks the client history at the end of a run:
 * - every register (group, key) is linearizable, reads included;
 * - every group's append-only log is the same on every replica (prefixes of
 *   one log), holds each acknowledged append exactly once at the position the
 *   client was told, holds nothing that was never submitted, and every log
 *   read observed every append acknowledged before the read started.
 */
export function checkHistory(
  history: readonly ClientOp[],
  logs: ReadonlyMap<GroupId, readonly string[][]>,
): HistoryReport {
  const registers = new Map<string, RegisterOp[]>();
  for (const op of history) {
    if (op.kind !== 'put' && op.kind !== 'get') continue;
    if (op.kind === 'get' && !op.acked) continue;
    const key = `${op.group}/${op.key}`;
    let list = registers.get(key);
    if (!list) {
      list = [];
      registers.set(key, list);
    }
    list.push({
      kind: op.kind,
      value: op.value,
      invoke: op.invoke,
      complete: op.acked ? op.complete : Infinity,
    });
  }
  for (const [key, all] of registers) {
    // A write whose outcome is unknown and whose value no read returned may be taken to happen last (or
    // never): it explains nothing and constrains nothing, and each one multiplies the search.
    const observed = new Set(all.filter((o) => o.kind === 'get').map((o) => o.value));
    const ops = all.filter((o) => o.kind === 'get' || o.complete !== Infinity || observed.has(o.value));
    const r = checkRegister(ops);
    if (r.ok === false)
      throw new Violation('linearizability', `register ${key} (${ops.length} ops): ${r.reason}`);
    // A search that gives up proves nothing: it fails the run rather than passing it.
    if (r.ok === 'unknown') {
      throw new Violation(
        'linearizability',
        `register ${key} (${ops.length} ops): inconclusive, ${r.reason}`,
      );
    }
  }

  const appendsByGroup = new Map<GroupId, ClientOp[]>();
  const readsByGroup = new Map<GroupId, ClientOp[]>();
  for (const op of history) {
    const target = op.kind === 'append' ? appendsByGroup : op.kind === 'read_log' ? readsByGroup : null;
    if (!target) continue;
    let list = target.get(op.group);
    if (!list) {
      list = [];
      target.set(op.group, list);
    }
    list.push(op);
  }
  for (const [g, replicas] of logs) {
    let final: readonly string[] = [];
    for (const l of replicas) if (l.length > final.length) final = l;
    for (const l of replicas) {
      for (let i = 0; i < l.length; i++) {
        if (l[i] !== final[i])
          throw new Violation('append_log', `group ${g}: replicas disagree at log position ${i}`);
      }
    }
    const appends = appendsByGroup.get(g) ?? [];
    const submitted = new Set(appends.map((a) => a.id));
    const seen = new Set<string>();
    for (let i = 0; i < final.length; i++) {
      const id = final[i]!;
      if (seen.has(id)) throw new Violation('append_log', `group ${g}: ${id} appears twice in the log`);
      seen.add(id);
      if (!submitted.has(id))
        throw new Violation('append_log', `group ${g}: ${id} in the log was never submitted`);
    }
    const acked = appends.filter((a) => a.acked).sort((a, b) => a.complete - b.complete);
    for (const a of acked) {
      if (final[a.result] !== a.id) {
        throw new Violation(
          'append_log',
          `group ${g}: acknowledged append ${a.id} at position ${a.result} is not there (found ${final[a.result] ?? 'nothing'})`,
        );
      }
    }
    // Every read must see every append acknowledged before it began, and never less than a read that
    // completed before it began.
    const reads = (readsByGroup.get(g) ?? []).filter((r) => r.acked).sort((a, b) => a.invoke - b.invoke);
    checkMonotonicReads(g, reads);
    let j = 0;
    let needed = 0;
    for (const r of reads) {
      while (j < acked.length && acked[j]!.complete < r.invoke) {
        needed = Math.max(needed, acked[j]!.result + 1);
        j++;
      }
      if (r.result < needed) {
        throw new Violation(
          'append_log',
          `group ${g}: read ${r.id} saw ${r.result} entries but ${needed} were acknowledged before it began`,
        );
      }
      if (r.result > final.length) {
        throw new Violation(
          'append_log',
          `group ${g}: read ${r.id} saw ${r.result} entries, the log has ${final.length}`,
        );
      }
    }
  }
  return { registers: registers.size };
}

/** A read that begins after another read completed never sees a shorter log. */
function checkMonotonicReads(g: GroupId, reads: readonly ClientOp[]): void {
  const byCompletion = [...reads].sort((a, b) => a.complete - b.complete);
  let j = 0;
  let seen = 0;
  let witness: ClientOp | undefined;
  for (const r of reads) {
    while (j < byCompletion.length && byCompletion[j]!.complete < r.invoke) {
      const done = byCompletion[j]!;
      if (done.result > seen) {
        seen = done.result;
        witness = done;
      }
      j++;
    }
    if (r.result < seen) {
      throw new Violation(
        'monotonic_reads',
        `group ${g}: read ${r.id} saw ${r.result} entries after read ${witness!.id} had seen ${seen}`,
      );
    }
  }
}
