import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAll, checkLinearizable, minimalReport } from '../src/checkers/index.js';
import type { AppendOp, FinalLog, Op, StreamEvent, StreamRecord } from '../src/history.js';

/**
 * A correct store, simulated: steps take effect one at a time at their
 * linearization points (10, 20, ...), then each client's ops get intervals
 * around their points, as wide as its own sequence allows. Unknown appends
 * may give up before their point (applied late) or never apply.
 */
const ACTIONS = [
  'append',
  'append',
  'append',
  'unknown-applied',
  'unknown-dropped',
  'refused',
  'if-ok',
  'if-conflict',
  'retry',
  'tail',
  'tail',
  'window',
  'read-timeout',
] as const;

const stepArb = fc.record({
  action: fc.constantFrom(...ACTIONS),
  process: fc.nat(3),
  context: fc.nat(1),
  limit: fc.integer({ min: 1, max: 5 }),
  pick: fc.nat(1000),
  before: fc.double({ min: 0, max: 1, noNaN: true }),
  after: fc.double({ min: 0, max: 1, noNaN: true }),
});
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

/** Omit over each member of a union, keeping their distinct fields. */
type Untimed<T> = T extends unknown ? Omit<T, 'index' | 'invoke' | 'complete'> : never;

interface Draft {
  readonly step: Step;
  readonly lp: number;
  /** The op without index and times. */
  readonly op: Untimed<Op>;
  /** An unknown op's client may give up before the op takes effect. */
  readonly mayGiveUpEarly: boolean;
}

interface History {
  readonly ops: Op[];
  readonly streams: StreamRecord[];
  readonly finals: FinalLog[];
}

function simulate(steps: readonly Step[], seed: number): History {
  const contexts = ['c0', 'c1'];
  const logs = new Map(contexts.map((c) => [c, [] as string[]]));
  const retryable = new Map(contexts.map((c) => [c, [] as { text: string; key: string }[]]));
  const drafts: Draft[] = [];
  steps.forEach((step, i) => {
    const context = contexts[step.context];
    const log = logs.get(context)!;
    const base = { process: `p${step.process}`, context, node: `n${step.pick % 3}` };
    const text = `${context}-m${i}`;
    const key = `${context}-k${i}`;
    const newest = (count: number) =>
      log
        .slice(Math.max(0, log.length - count))
        .map((t, j, all) => ({ seq: log.length - all.length + j + 1, text: t }));
    let op: Draft['op'];
    let mayGiveUpEarly = false;
    switch (step.action) {
      case 'append':
      case 'if-ok': {
        const ifVersion = step.action === 'if-ok' ? { ifVersion: log.length } : {};
        log.push(text);
        op = {
          ...base,
          kind: 'append',
          text,
          key,
          ...ifVersion,
          outcome: 'ok',
          seq: log.length,
          version: log.length,
        };
        break;
      }
      case 'unknown-applied':
      case 'unknown-dropped':
        if (step.action === 'unknown-applied') log.push(text);
        retryable.get(context)!.push({ text, key });
        op = { ...base, kind: 'append', text, key, outcome: 'unknown', error: 'timeout' };
        mayGiveUpEarly = true;
        break;
      case 'refused':
        op = { ...base, kind: 'append', text, key, outcome: 'fail', status: 400, error: 'too large' };
        break;
      case 'if-conflict': {
        const ifVersion = log.length + 1 + (step.pick % 2) * -2;
        op = {
          ...base,
          kind: 'append',
          text,
          key,
          ifVersion,
          outcome: 'fail',
          status: 409,
          found: log.length,
        };
        break;
      }
      case 'retry': {
        const candidates = retryable.get(context)!;
        const target = candidates[step.pick % Math.max(1, candidates.length)];
        const at = target ? log.indexOf(target.text) + 1 : 0;
        if (!target) {
          op = { ...base, kind: 'tail', outcome: 'ok', messages: newest(step.limit) };
        } else if (at > 0) {
          op = { ...base, kind: 'append', ...target, outcome: 'ok', seq: at, version: at, replayed: true };
        } else {
          log.push(target.text);
          op = { ...base, kind: 'append', ...target, outcome: 'ok', seq: log.length, version: log.length };
        }
        break;
      }
      case 'tail':
        op = { ...base, kind: 'tail', outcome: 'ok', messages: newest(step.limit) };
        break;
      case 'window':
        op = { ...base, kind: 'window', outcome: 'ok', version: log.length, messages: newest(step.limit) };
        break;
      case 'read-timeout':
        op = { ...base, kind: 'tail', outcome: 'unknown', error: 'timeout' };
        mayGiveUpEarly = true;
        break;
    }
    drafts.push({ step, lp: 10 * (i + 1), op, mayGiveUpEarly });
  });

  const ops: Op[] = [];
  const byProcess = new Map<string, Draft[]>();
  for (const d of drafts) byProcess.set(d.op.process, [...(byProcess.get(d.op.process) ?? []), d]);
  for (const sequence of byProcess.values()) {
    let previous = 0;
    sequence.forEach((d, i) => {
      const next = sequence[i + 1]?.lp ?? d.lp + 50;
      const invoke = previous + 1 + d.step.before * (d.lp - previous - 1);
      const from = d.mayGiveUpEarly ? invoke : d.lp;
      const complete = from + d.step.after * (next - 1 - from);
      ops.push({ ...d.op, index: 0, invoke, complete } as Op);
      previous = complete;
    });
  }
  ops.sort((a, b) => a.invoke - b.invoke);
  const indexed = ops.map((op, index) => ({ ...op, index }));
  const finals = contexts.map((context) => {
    const texts = logs.get(context)!;
    return { context, texts, version: texts.length };
  });
  return { ops: indexed, streams: finals.map((f, i) => subscriber(f, seed + i)), finals };
}

/** A subscriber that got everything after some seq, in live frames and gap fills, maybe with a reset. */
function subscriber(final: FinalLog, seed: number): StreamRecord {
  let state = seed >>> 0;
  const random = (n: number) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state % n;
  };
  const fromSeq = random(final.texts.length + 1);
  const events: StreamEvent[] = [];
  let seq = fromSeq + 1;
  let resets = 0;
  while (seq <= final.texts.length) {
    const choice = random(6);
    if (choice === 0 && resets++ < 2) {
      const lastSeq = random(seq);
      events.push({ type: 'reset', version: lastSeq, lastSeq });
      seq = lastSeq + 1;
    } else if (choice < 3) {
      const last = Math.min(final.texts.length, seq + random(3));
      const messages = [];
      for (; seq <= last; seq++) messages.push({ seq, text: final.texts[seq - 1] });
      events.push({ type: 'gap_filled', version: last, messages });
    } else {
      events.push({ type: 'message', seq, version: seq, text: final.texts[seq - 1] });
      seq++;
    }
  }
  return { process: 's0', context: final.context, node: 'n0', fromVersion: fromSeq, fromSeq, events };
}

const historyArb = fc.record({
  steps: fc.array(stepArb, { minLength: 1, maxLength: 80, size: 'large' }),
  seed: fc.nat(),
});

describe('checkers over a correct store', () => {
  it('find nothing in any history a correct store produces', () => {
    fc.assert(
      fc.property(historyArb, ({ steps, seed }) => {
        const history = simulate(steps, seed);
        expect(minimalReport(checkAll(history))).toBe('no anomalies');
      }),
      { seed: 20240607, numRuns: 400 },
    );
  });

  it('catch one read made stale: an append it must include completed before it was invoked', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.nat(), ({ steps, seed }, which, older) => {
        const history = simulate(steps, seed);
        const stale = staleCandidates(history.ops);
        fc.pre(stale.length > 0);
        const { read, below } = stale[which % stale.length];
        const final = history.finals.find((f) => f.context === read.context)!;
        const length = older % below;
        const mutated = rewind(read, length, final.texts);
        const ops = history.ops.map((op) => (op === read ? mutated : op));

        const found = checkLinearizable(ops, final);
        expect(found).toHaveLength(1);
        expect(found[0].checker).toBe('linearizable');
        expect(found[0].ops).toContain(mutated);
        expect(found[0].ops.length).toBeLessThanOrEqual(6);
        expect(found[0].message).toMatch(/stale read/);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('catch an acknowledged append lost from the final log', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), ({ steps, seed }, which) => {
        const history = simulate(steps, seed);
        const acked = history.ops.filter((op): op is AppendOp => op.kind === 'append' && op.outcome === 'ok');
        fc.pre(acked.length > 0);
        const lost = acked[which % acked.length];
        const finals = history.finals.map((f) => {
          const texts = f.texts.filter((t) => t !== lost.text);
          return { ...f, texts, version: texts.length };
        });
        const found = checkAll({ ...history, finals }).filter((a) => /lost ack/.test(a.message));
        expect(found).toHaveLength(1);
        expect(found[0].ops).toContain(lost);
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});

/** Ok reads, each with the greatest seq acknowledged before it was invoked (to read less than). */
function staleCandidates(ops: readonly Op[]): { read: Op & { kind: 'tail' | 'window' }; below: number }[] {
  const appends = ops.filter((op): op is AppendOp => op.kind === 'append' && op.outcome === 'ok');
  return ops.flatMap((read) => {
    if (read.kind === 'append' || read.outcome !== 'ok') return [];
    const before = appends.filter((a) => a.context === read.context && a.complete < read.invoke);
    const below = Math.max(0, ...before.map((a) => a.seq!));
    return below > 0 ? [{ read, below }] : [];
  });
}

function rewind(read: Op & { kind: 'tail' | 'window' }, length: number, texts: readonly string[]): Op {
  const count = Math.min(length, Math.max(1, read.messages?.length ?? 1));
  const messages = texts
    .slice(length - count, length)
    .map((text, i) => ({ seq: length - count + i + 1, text }));
  return read.kind === 'window' ? { ...read, version: length, messages } : { ...read, messages };
}
