/**
 * A Wing–Gong linearizability checker with Lowe's memoization (the approach of
 * Knossos and Porcupine), for a single register. Histories are checked per key,
 * which is sound because linearizability is compositional.
 *
 * An operation whose outcome the client never learned has `complete = Infinity`:
 * it may take effect at any point after its invocation, or never (linearized
 * after everything else, where no read can observe it).
 */
export interface RegisterOp {
  readonly kind: 'put' | 'get';
  /** For put: the value written. For get: the value read (null = never written). */
  readonly value: string | null;
  readonly invoke: number;
  readonly complete: number;
}

export type LinearizabilityResult =
  | { ok: true }
  | { ok: false; reason: string }
  | { ok: 'unknown'; reason: string };

interface Node {
  op: number;
  isCall: boolean;
  time: number;
  prev: Node | null;
  next: Node | null;
  match: Node | null;
}

export function checkRegister(ops: readonly RegisterOp[], maxSteps = 2_000_000): LinearizabilityResult {
  const n = ops.length;
  if (n === 0) return { ok: true };
  const events: Node[] = [];
  for (let i = 0; i < n; i++) {
    const o = ops[i]!;
    if (!(o.complete >= o.invoke)) return { ok: false, reason: `operation ${i} completes before it starts` };
    const call: Node = { op: i, isCall: true, time: o.invoke, prev: null, next: null, match: null };
    const ret: Node = { op: i, isCall: false, time: o.complete, prev: null, next: null, match: null };
    call.match = ret;
    events.push(call, ret);
  }
  // Calls before returns at equal times: touching operations count as concurrent.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, time: -1, prev: null, next: null, match: null };
  let tail = head;
  for (const e of events) {
    tail.next = e;
    e.prev = tail;
    tail = e;
  }

  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: { call: Node; state: string | null }[] = [];
  let state: string | null = null;
  let entry: Node | null = head.next;
  let steps = 0;

  const lift = (call: Node) => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Node) => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  while (head.next !== null) {
    if (++steps > maxSteps) return { ok: 'unknown', reason: `search exceeded ${maxSteps} steps` };
    if (entry?.isCall) {
      const o = ops[entry.op]!;
      let legal: boolean;
      let next: string | null;
      if (o.kind === 'put') {
        legal = true;
        next = o.value;
      } else {
        legal = o.value === state;
        next = state;
      }
      if (legal) {
        const w = entry.op >>> 5;
        const bit = 1 << (entry.op & 31);
        linearized[w]! |= bit;
        const key = `${linearized.join(',')}|${next ?? '\u0000'}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ call: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[w]! &= ~bit;
      }
      entry = entry.next;
    } else {
      // A return whose call is not linearized yet: backtrack.
      const top = stack.pop();
      if (!top) {
        const o = entry === null ? undefined : ops[entry.op];
        const what = o ? `${o.kind} of ${String(o.value)}` : 'an operation';
        return { ok: false, reason: `no linearization: ${what} cannot be ordered` };
      }
      state = top.state;
      linearized[top.call.op >>> 5]! &= ~(1 << (top.call.op & 31));
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { ok: true };
}
