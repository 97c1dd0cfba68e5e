import { describe, expect, it } from 'vitest';
import { Violation } from '../../src/sim/checkers.js';
import { type ClientOp, checkHistory } from '../../src/sim/history.js';

let n = 0;
const op = (kind: ClientOp['kind'], fields: Partial<ClientOp>): ClientOp => ({
  id: fields.id ?? `op${++n}`,
  client: 0,
  group: 0,
  kind,
  key: 'k',
  value: null,
  invoke: 0,
  complete: Infinity,
  acked: false,
  result: -1,
  ...fields,
});

const checker = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof Violation) return err.checker;
    throw err;
  }
  return null;
};

describe('checkHistory', () => {
  it('checkHistory – accepts a log with every acknowledged append once, at its position', () => {
    const a = op('append', { id: 'a', acked: true, invoke: 0, complete: 2, result: 0 });
    const b = op('append', { id: 'b', acked: false });
    const r = op('read_log', { acked: true, invoke: 3, complete: 4, result: 1 });
    const logs = new Map([[0, [['a', 'b'], ['a']]]]);
    expect(checker(() => checkHistory([a, b, r], logs))).toBeNull();
  });

  it('checkHistory – catches a lost acknowledged append, a duplicate, a phantom and a stale read', () => {
    const a = op('append', { id: 'a', acked: true, invoke: 0, complete: 2, result: 0 });
    expect(checker(() => checkHistory([a], new Map([[0, [[]]]])))).toBe('append_log');
    expect(checker(() => checkHistory([a], new Map([[0, [['a', 'a']]]])))).toBe('append_log');
    expect(checker(() => checkHistory([a], new Map([[0, [['a', 'zz']]]])))).toBe('append_log');
    const stale = op('read_log', { acked: true, invoke: 5, complete: 6, result: 0 });
    expect(checker(() => checkHistory([a, stale], new Map([[0, [['a']]]])))).toBe('append_log');
    expect(checker(() => checkHistory([a], new Map([[0, [['a'], ['b']]]])))).toBe('append_log');
  });

  it('checkHistory – checks registers for linearizability', () => {
    const w1 = op('put', { value: 'x', acked: true, invoke: 0, complete: 1 });
    const w2 = op('put', { value: 'y', acked: true, invoke: 2, complete: 3 });
    const stale = op('get', { value: 'x', acked: true, invoke: 4, complete: 5 });
    expect(checker(() => checkHistory([w1, w2, stale], new Map()))).toBe('linearizability');
    const fresh = op('get', { value: 'y', acked: true, invoke: 4, complete: 5 });
    expect(checker(() => checkHistory([w1, w2, fresh], new Map()))).toBeNull();
  });
});

describe('checkHistory – monotonic reads and inconclusive searches', () => {
  it('history – a log read that sees less than a read completed before it began is caught', () => {
    const a = op('append', { id: 'a1', acked: true, invoke: 0, complete: 1, result: 0 });
    const b = op('append', { id: 'a2', invoke: 0, result: 1 });
    const r1 = op('read_log', { acked: true, invoke: 2, complete: 3, result: 2 });
    const r2 = op('read_log', { acked: true, invoke: 4, complete: 5, result: 1 });
    expect(checker(() => checkHistory([a, b, r1, r2], new Map([[0, [['a1', 'a2']]]])))).toBe(
      'monotonic_reads',
    );
    const r3 = op('read_log', { acked: true, invoke: 4, complete: 5, result: 2 });
    expect(checker(() => checkHistory([a, b, r1, r3], new Map([[0, [['a1', 'a2']]]])))).toBeNull();
  });
});
