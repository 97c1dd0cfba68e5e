import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRegister, type RegisterOp } from '../../src/sim/linearizability.js';

const put = (value: string, invoke: number, complete: number): RegisterOp => ({
  kind: 'put',
  value,
  invoke,
  complete,
});
const get = (value: string | null, invoke: number, complete: number): RegisterOp => ({
  kind: 'get',
  value,
  invoke,
  complete,
});

describe('checkRegister', () => {
  it('checkRegister – accepts a sequential history', () => {
    expect(checkRegister([put('a', 0, 1), get('a', 2, 3), put('b', 4, 5), get('b', 6, 7)]).ok).toBe(true);
  });

  it('checkRegister – accepts reads that overlap a write seeing either value', () => {
    const h = [put('a', 0, 1), put('b', 2, 10), get('a', 3, 4), get('b', 5, 6), get('b', 11, 12)];
    expect(checkRegister(h).ok).toBe(true);
  });

  it('checkRegister – rejects a stale read after a completed write', () => {
    const r = checkRegister([put('a', 0, 1), put('b', 2, 3), get('a', 4, 5)]);
    expect(r.ok).toBe(false);
  });

  it('checkRegister – rejects a read that goes back in time', () => {
    const r = checkRegister([put('a', 0, 1), put('b', 2, 20), get('b', 3, 4), get('a', 5, 6)]);
    expect(r.ok).toBe(false);
  });

  it('checkRegister – a write with unknown outcome may take effect late, or never', () => {
    const late = [put('a', 0, 1), put('b', 2, Infinity), get('a', 3, 4), get('b', 5, 6)];
    expect(checkRegister(late).ok).toBe(true);
    const never = [put('a', 0, 1), put('b', 2, Infinity), get('a', 3, 4), get('a', 50, 51)];
    expect(checkRegister(never).ok).toBe(true);
    const phantom = [put('a', 0, 1), get('c', 3, 4)];
    expect(checkRegister(phantom).ok).toBe(false);
  });

  it('checkRegister – property: any history produced by a real register is linearizable', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ write: fc.boolean(), start: fc.nat(100), length: fc.nat(20) }), {
          maxLength: 40,
        }),
        (specs) => {
          // Execute atomically at each op's midpoint; record what a real register would return.
          const ops = specs.map((s, i) => ({ ...s, i, at: s.start + s.length / 2 }));
          const order = [...ops].sort((x, y) => x.at - y.at || x.i - y.i);
          let value: string | null = null;
          const history: RegisterOp[] = [];
          for (const o of order) {
            if (o.write) value = `v${o.i}`;
            history.push({
              kind: o.write ? 'put' : 'get',
              value: o.write ? `v${o.i}` : value,
              invoke: o.start,
              complete: o.start + o.length,
            });
          }
          expect(checkRegister(history).ok).toBe(true);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
