import { describe, expect, it } from 'vitest';
import {
  checkAll,
  checkLinearizable,
  checkLog,
  checkMonotonic,
  checkStreams,
  minimalReport,
} from '../src/checkers/index.js';
import type {
  AppendOp,
  FinalLog,
  Op,
  Outcome,
  StreamEvent,
  StreamRecord,
  TailReadOp,
  WindowReadOp,
} from '../src/history.js';

const CTX = 'chat-1';
let index = 0;

function append(
  text: string,
  invoke: number,
  complete: number,
  outcome: Outcome,
  fields: Partial<AppendOp> = {},
): AppendOp {
  const seq = outcome === 'ok' ? fields.seq : undefined;
  return {
    index: index++,
    process: 'p1',
    context: CTX,
    node: 'n1',
    kind: 'append',
    text,
    key: `key-${text}`,
    invoke,
    complete,
    outcome,
    ...(seq === undefined ? {} : { version: seq }),
    ...fields,
  };
}

const ok = (text: string, seq: number, invoke: number, complete: number, fields: Partial<AppendOp> = {}) =>
  append(text, invoke, complete, 'ok', { seq, ...fields });

/** A tail read of `log` at length `length`, returning the newest `count` messages. */
function tail(
  log: readonly string[],
  length: number,
  invoke: number,
  complete: number,
  count = 2,
): TailReadOp {
  const first = Math.max(1, length - count + 1);
  const messages = [];
  for (let seq = first; seq <= length; seq++) messages.push({ seq, text: log[seq - 1] });
  return {
    index: index++,
    process: 'p2',
    context: CTX,
    node: 'n2',
    kind: 'tail',
    invoke,
    complete,
    outcome: 'ok',
    messages,
  };
}

function window(log: readonly string[], version: number, invoke: number, complete: number): WindowReadOp {
  const messages = log.slice(0, version).map((text, i) => ({ seq: i + 1, text }));
  return { ...tail(log, 0, invoke, complete), kind: 'window', version, messages };
}

const finalOf = (texts: string[], version = texts.length): FinalLog => ({ context: CTX, texts, version });
const by = (p: string, op: Op): Op => ({ ...op, process: p });

describe('checkLog', () => {
  it('accepts a log that matches every acknowledgement', () => {
    const ops = [ok('a', 1, 0, 1), ok('b', 2, 2, 3)];
    expect(checkLog(ops, finalOf(['a', 'b']))).toEqual([]);
  });

  it('reports a lost ack with the append that was acknowledged', () => {
    const lost = ok('b', 2, 2, 3);
    const found = checkLog([ok('a', 1, 0, 1), lost], finalOf(['a']));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ checker: 'log', context: CTX, ops: [lost] });
    expect(found[0].message).toMatch(/lost ack/);
  });

  it('reports a text present twice', () => {
    const a = ok('a', 1, 0, 1);
    const found = checkLog([a], finalOf(['a', 'a']));
    expect(found.map((x) => x.message)).toEqual([expect.stringMatching(/duplicate: "a" appears 2 times/)]);
    expect(found[0].ops).toEqual([a]);
  });

  it('reports an append that landed elsewhere than acknowledged, with the one holding that seq', () => {
    const a = ok('a', 1, 0, 1);
    const b = ok('b', 1, 2, 3);
    const found = checkLog([a, b], finalOf(['a', 'b']));
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatch(/seq mismatch: "b" was acknowledged at seq 1 but is at seq 2/);
    expect(found[0].ops).toEqual([b, a]);
  });

  it('reports an append proved not applied that is present', () => {
    const refused = append('b', 2, 3, 'fail', { status: 400, error: 'bad request' });
    const found = checkLog([ok('a', 1, 0, 1), refused], finalOf(['a', 'b']));
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatch(/proved not applied but is present at seq 2/);
    expect(found[0].ops).toEqual([refused]);
  });

  it('accepts a refused attempt whose retry applied', () => {
    const ops = [append('a', 0, 1, 'fail', { status: 400 }), ok('a', 1, 2, 3)];
    expect(checkLog(ops, finalOf(['a']))).toEqual([]);
  });

  it('reports a text nobody appended and a version that is not the length', () => {
    const found = checkLog([ok('a', 1, 0, 1)], finalOf(['a', 'ghost'], 3));
    expect(found.map((x) => x.message)).toEqual([
      expect.stringMatching(/version 3 but holds 2 messages/),
      expect.stringMatching(/"ghost" at seq 2 .* never appended/),
    ]);
  });

  it('reports a replay that disagrees with the first acknowledgement', () => {
    const first = ok('a', 1, 0, 1);
    const replay = ok('a', 2, 2, 3, { replayed: true });
    const found = checkLog([first, replay], finalOf(['a']));
    expect(found.map((x) => x.message)).toContainEqual(expect.stringMatching(/replayed at seq 2/));
    expect(found.find((x) => /replayed/.test(x.message))?.ops).toEqual([first, replay]);
  });
});

describe('checkLinearizable', () => {
  const log = ['a', 'b', 'c'];

  it('reports a stale read with the read and the append it misses', () => {
    const b = ok('b', 2, 2, 3);
    const read = tail(log, 1, 4, 5);
    const found = checkLinearizable([ok('a', 1, 0, 1), b, read], finalOf(['a', 'b']));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ checker: 'linearizable', context: CTX, ops: [b, read] });
    expect(found[0].message).toMatch(/stale read: tail read \(length 1\) was invoked 1ms after append "b"/);
  });

  it('reports a future read: one that saw an append invoked after it completed', () => {
    const read = tail(log, 1, 0, 1);
    const a = ok('a', 1, 2, 3);
    const found = checkLinearizable([read, a], finalOf(['a']));
    expect(found).toHaveLength(1);
    expect(found[0].ops).toEqual([read, a]);
    expect(found[0].message).toMatch(/future read/);
  });

  it('accepts reads concurrent with an append seeing either side of it', () => {
    const ops = [ok('a', 1, 0, 10), tail(log, 0, 1, 2), tail(log, 1, 3, 4), window(log, 1, 11, 12)];
    expect(checkLinearizable(ops, finalOf(['a']))).toEqual([]);
  });

  it('reports a read that goes back in time', () => {
    const newer = window(log, 2, 3, 4);
    const older = window(log, 1, 5, 6);
    const found = checkLinearizable([ok('a', 1, 0, 1), ok('b', 2, 0, 10), newer, older], finalOf(['a', 'b']));
    expect(found.map((x) => x.message)).toEqual([expect.stringMatching(/read went back in time/)]);
    expect(found[0].ops).toEqual([newer, older]);
  });

  it('reports read content that does not match the log', () => {
    const a = ok('a', 1, 0, 1);
    const read: TailReadOp = { ...tail(log, 1, 2, 3), messages: [{ seq: 1, text: 'zz' }] };
    const found = checkLinearizable([a, read], finalOf(['a']));
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatch(/seq 1 read as "zz" but the final log has "a"/);
    expect(found[0].ops).toEqual([read, a]);
  });

  it('reports a tail that is not the newest contiguous run and a window whose newest seq is not its version', () => {
    const gappy: TailReadOp = {
      ...tail(log, 3, 10, 11, 3),
      messages: [1, 3].map((s) => ({ seq: s, text: log[s - 1] })),
    };
    const short: WindowReadOp = { ...window(log, 3, 12, 13), messages: [{ seq: 2, text: 'b' }] };
    const ops = [ok('a', 1, 0, 1), ok('b', 2, 2, 3), ok('c', 3, 4, 5), gappy, short];
    const found = checkLinearizable(ops, finalOf(log));
    expect(found.map((x) => x.message)).toEqual([
      expect.stringMatching(/not the contiguous newest run ending at 3/),
      expect.stringMatching(/newest message has seq 2 but version is 3/),
    ]);
  });

  it('treats a 409 as a read of the version it found, and checks ifVersion seqs', () => {
    const a = ok('a', 1, 0, 1);
    const conflict = append('x', 2, 3, 'fail', { status: 409, ifVersion: 5, found: 0 });
    const wrongSeq = ok('b', 3, 4, 5, { ifVersion: 1 });
    const found = checkLinearizable([a, conflict, wrongSeq], finalOf(['a', 'c', 'b']));
    expect(found.map((x) => x.message)).toEqual([
      expect.stringMatching(/with ifVersion 1 was acknowledged at seq 3/),
      expect.stringMatching(/stale read: 409 on ifVersion 5 \(found length 0\)/),
    ]);
  });

  it('accepts an unknown append that never took effect', () => {
    const ops = [ok('a', 1, 0, 1), append('b', 2, 30, 'unknown', { error: 'timeout' }), tail(log, 1, 40, 41)];
    expect(checkAll({ ops, streams: [], finals: [finalOf(['a'])] })).toEqual([]);
  });

  it('accepts an unknown append that took effect late, and its replayed retry', () => {
    const ops = [
      ok('a', 1, 0, 1),
      append('b', 2, 3, 'unknown', { error: 'socket hang up' }),
      tail(log, 1, 5, 6),
      tail(log, 2, 7, 8),
      // Saw "b" before the retry was invoked: fine, the first attempt applied it.
      ok('b', 2, 20, 21, { replayed: true }),
    ];
    expect(checkAll({ ops, streams: [], finals: [finalOf(['a', 'b'])] })).toEqual([]);
  });

  it('reports two appends acknowledged at one seq', () => {
    const found = checkLinearizable([ok('a', 1, 0, 1), ok('b', 1, 2, 3)], finalOf(['a', 'b']));
    expect(found.map((x) => x.message)).toEqual([expect.stringMatching(/two appends took seq 1/)]);
  });
});

describe('checkMonotonic', () => {
  it('reports a client that sees the log shrink, once per high-water mark', () => {
    const log = ['a', 'b'];
    const high = tail(log, 2, 0, 1);
    const low = tail(log, 1, 2, 3);
    const found = checkMonotonic([high, low, tail(log, 1, 4, 5), by('p9', tail(log, 0, 6, 7))]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ checker: 'monotonic', context: CTX, ops: [high, low] });
    expect(found[0].message).toMatch(/client p2 saw length 2 .* and then length 1/);
  });

  it('ignores replays, which report the original version', () => {
    const ops = [ok('a', 1, 0, 1), tail(['a', 'b'], 2, 2, 3), by('p2', ok('a', 1, 4, 5, { replayed: true }))];
    expect(checkMonotonic(ops)).toEqual([]);
  });
});

describe('checkStreams', () => {
  const log = ['a', 'b', 'c', 'd'];
  const msg = (seq: number, text = log[seq - 1]): StreamEvent => ({
    type: 'message',
    seq,
    version: seq,
    text,
  });
  const sub = (events: StreamEvent[], fromSeq = 0): StreamRecord => ({
    process: 's1',
    context: CTX,
    node: 'n3',
    fromVersion: fromSeq,
    fromSeq,
    events,
  });
  const check = (events: StreamEvent[], fromSeq = 0) => checkStreams([sub(events, fromSeq)], finalOf(log));

  it('accepts live messages and gap fills that cover every seq once', () => {
    const fill: StreamEvent = {
      type: 'gap_filled',
      version: 3,
      messages: [2, 3].map((s) => ({ seq: s, text: log[s - 1] })),
    };
    expect(check([msg(1), fill, msg(4)])).toEqual([]);
    expect(check([msg(3), msg(4)], 2)).toEqual([]);
  });

  it('reports a hole with the appends of the missing seqs', () => {
    const ops = [ok('a', 1, 0, 1), ok('b', 2, 2, 3), ok('c', 3, 4, 5)];
    const found = checkStreams([sub([msg(1), msg(4)])], finalOf(log), ops);
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatch(/subscriber s1 on n3 .*event 2: hole: seqs 2..3 never delivered/);
    expect(found[0].ops).toEqual([ops[1], ops[2]]);
  });

  it('reports a seq delivered twice', () => {
    const fill: StreamEvent = { type: 'gap_filled', version: 2, messages: [{ seq: 2, text: 'b' }] };
    const found = check([msg(1), msg(2), fill]);
    expect(found.map((x) => x.message)).toEqual([
      expect.stringMatching(/seq 2 delivered twice/),
      expect.stringMatching(/gap fill has version 2, not above 2/),
    ]);
  });

  it('continues after a reset from its lastSeq, repeats included', () => {
    expect(
      check([msg(1), msg(2), msg(3), { type: 'reset', version: 1, lastSeq: 1 }, msg(2), msg(3)]),
    ).toEqual([]);
    const found = check([msg(1), { type: 'reset', version: 2, lastSeq: 2 }, msg(4)]);
    expect(found.map((x) => x.message)).toEqual([expect.stringMatching(/hole: seq 3 never delivered/)]);
  });

  it('reports wrong texts, falling versions and seqs beyond the final log', () => {
    const found = check([msg(1, 'zz'), { type: 'message', seq: 2, version: 1, text: 'b' }, msg(5, 'e')]);
    expect(found.map((x) => x.message)).toEqual([
      expect.stringMatching(/seq 1 delivered as "zz" but the final log has "a"/),
      expect.stringMatching(/message seq 2 has version 1, not above 1/),
      expect.stringMatching(/hole: seqs 3..4/),
      expect.stringMatching(/seq 5 delivered, beyond the final log's 4 messages/),
    ]);
  });
});

describe('checkAll and minimalReport', () => {
  it('reports contexts without a final log', () => {
    const found = checkAll({ ops: [ok('a', 1, 0, 1)], streams: [], finals: [] });
    expect(found).toEqual([{ checker: 'history', context: CTX, message: expect.any(String), ops: [] }]);
  });

  it('formats each anomaly with its ops one per line, times relative to the first', () => {
    const b = ok('b', 2, 102, 103);
    const read = tail(['a', 'b'], 1, 104.25, 105);
    const timedOut = append('c', 106, 200, 'unknown', { error: 'timeout', status: 503 });
    const found = checkAll({
      ops: [ok('a', 1, 100, 101), b, read, timedOut],
      streams: [],
      finals: [finalOf(['a', 'b'])],
    });
    const report = minimalReport([...found, { checker: 'x', context: CTX, message: 'm', ops: [timedOut] }]);
    expect(report.split('\n')).toEqual([
      '2 anomalies',
      '',
      expect.stringMatching(/^1\. \[linearizable\] chat-1: stale read/),
      expect.stringMatching(
        /^ {3}#\d+ +p1 +@n1 +append +\+0\.0\.\.\+1\.0ms +ok +text="b" key="key-b" seq=2 version=2$/,
      ),
      expect.stringMatching(/^ {3}#\d+ +p2 +@n2 +tail +\+2\.3\.\.\+3\.0ms +ok +messages=\[1:"a"\]$/),
      '',
      '2. [x] chat-1: m',
      expect.stringMatching(
        /append +\+0\.0\.\.\+94\.0ms \(gave up\) +unknown text="c" .*error="timeout" status=503$/,
      ),
    ]);
    expect(minimalReport([])).toBe('no anomalies');
  });
});
