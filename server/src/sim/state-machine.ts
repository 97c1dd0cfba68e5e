import type { GroupStateMachine } from '../replication/host/state-machine.js';
import { fnv1a } from './hash.js';

/**
 * The replicated state machine of the simulation: a small key-value register
 * store (for linearizable reads) plus an append-only log (for exactly-once).
 * Every operation carries a unique id; a retried operation that was already
 * applied returns its first result instead of applying twice.
 */
export type OpKind = 'put' | 'append' | 'probe';

export interface Op {
  readonly id: string;
  readonly kind: OpKind;
  readonly key: string;
  readonly value: string;
}

/** What applying an entry returned to its proposer. */
export interface OpOutcome {
  readonly op: Op;
  /** For `append`, its position in the log; otherwise 0. */
  readonly result: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeOp(op: Op): Uint8Array {
  return encoder.encode(JSON.stringify([op.id, op.kind, op.key, op.value]));
}

export function decodeOp(data: Uint8Array): Op {
  const [id, kind, key, value] = JSON.parse(decoder.decode(data)) as [string, OpKind, string, string];
  return { id, kind, key, value };
}

interface SnapshotBody {
  applied: number;
  kv: [string, string][];
  log: string[];
  done: [string, number][];
}

/**
 * `applied` is the index of the last entry the host applied (including
 * entries that carry no operation, reported through `advance`), so a snapshot
 * records the index of the state it describes. `digest()` is an
 * order-independent hash of the whole state, maintained as operations apply
 * and recomputed from scratch on restore: replicas at the same applied index
 * must agree on it.
 */
export class SimStateMachine implements GroupStateMachine {
  applied = 0;
  readonly kv = new Map<string, string>();
  log: string[] = [];
  readonly done = new Map<string, number>();
  private sum = 0;

  apply(data: Uint8Array): OpOutcome {
    const op = decodeOp(data);
    const previous = this.done.get(op.id);
    if (previous !== undefined) return { op, result: previous };
    let result = 0;
    if (op.kind === 'put') {
      const old = this.kv.get(op.key);
      if (old !== undefined) this.sum -= kvHash(op.key, old);
      this.kv.set(op.key, op.value);
      this.sum += kvHash(op.key, op.value);
    } else if (op.kind === 'append') {
      result = this.log.length;
      this.log.push(op.id);
      this.sum += logHash(result, op.id);
    }
    this.done.set(op.id, result);
    this.sum += doneHash(op.id, result);
    this.sum >>>= 0;
    return { op, result };
  }

  /** The host applied entry `index` (with or without an operation). */
  advance(index: number): void {
    if (index !== this.applied + 1)
      throw new Error(`state machine: entry ${index} applied after ${this.applied}`);
    this.applied = index;
  }

  digest(): number {
    return this.sum;
  }

  snapshot(): Uint8Array {
    const body: SnapshotBody = {
      applied: this.applied,
      kv: [...this.kv],
      log: this.log,
      done: [...this.done],
    };
    return encoder.encode(JSON.stringify(body));
  }

  restore(data: Uint8Array): void {
    this.kv.clear();
    this.done.clear();
    this.log = [];
    this.applied = 0;
    if (data.length > 0) {
      const body = JSON.parse(decoder.decode(data)) as SnapshotBody;
      this.applied = body.applied;
      for (const [k, v] of body.kv) this.kv.set(k, v);
      this.log = body.log.slice();
      for (const [k, v] of body.done) this.done.set(k, v);
    }
    let sum = 0;
    for (const [k, v] of this.kv) sum += kvHash(k, v);
    this.log.forEach((id, i) => {
      sum += logHash(i, id);
    });
    for (const [id, r] of this.done) sum += doneHash(id, r);
    this.sum = sum >>> 0;
  }
}

function h(s: string): number {
  return fnv1a(encoder.encode(s));
}
const kvHash = (k: string, v: string) => h(`kv\u0000${k}\u0000${v}`);
const logHash = (i: number, id: string) => h(`log\u0000${i}\u0000${id}`);
const doneHash = (id: string, r: number) => h(`done\u0000${id}\u0000${r}`);
