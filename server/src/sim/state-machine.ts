import type { Entry } from '../raft/types.js';

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

/** An operation's result: for `append`, its position in the log; otherwise 0. */
export type OpResult = number;

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

export class SimStateMachine {
  applied = 0;
  readonly kv = new Map<string, string>();
  log: string[] = [];
  readonly done = new Map<string, OpResult>();

  /** Applies one committed entry; returns the op and its result for normal entries carrying an op. */
  apply(entry: Entry): { op: Op; result: OpResult } | null {
    if (entry.index !== this.applied + 1) {
      throw new Error(`state machine: entry ${entry.index} applied after ${this.applied}`);
    }
    this.applied = entry.index;
    if (entry.type !== 'normal' || entry.data.length === 0) return null;
    const op = decodeOp(entry.data);
    const previous = this.done.get(op.id);
    if (previous !== undefined) return { op, result: previous };
    let result = 0;
    if (op.kind === 'put') this.kv.set(op.key, op.value);
    else if (op.kind === 'append') {
      result = this.log.length;
      this.log.push(op.id);
    }
    this.done.set(op.id, result);
    return { op, result };
  }

  /** The snapshot records the applied index together with the state it describes. */
  snapshot(): Uint8Array {
    const body: SnapshotBody = {
      applied: this.applied,
      kv: [...this.kv],
      log: this.log,
      done: [...this.done],
    };
    return encoder.encode(JSON.stringify(body));
  }

  static restore(data: Uint8Array): SimStateMachine {
    const sm = new SimStateMachine();
    if (data.length === 0) return sm;
    const body = JSON.parse(decoder.decode(data)) as SnapshotBody;
    sm.applied = body.applied;
    for (const [k, v] of body.kv) sm.kv.set(k, v);
    sm.log = body.log.slice();
    for (const [k, v] of body.done) sm.done.set(k, v);
    return sm;
  }
}
