import type { Anomaly, AppendOp, FinalLog, Op, TailReadOp, WindowReadOp } from '../history.js';
import { anomaly, groupBy, isAppend, ms, observedLength, quote, seqsByText, writers } from './common.js';

const CHECKER = 'linearizable';
/** Real-time violations reported per context; one bug tends to surface as many. */
const MAX_VIOLATIONS = 10;

/**
 * Linearizability of one context's log, without a search.
 *
 * The object is an append-only log whose state is fully determined by its
 * length, and every operation tells us where it sits in the sequence of
 * states: an append that landed at seq s is the s-th write (ok: the seq it was
 * acknowledged with; unknown: its seq in the final log, or it never took effect
 * and drops out, which an unknown write may do); a read that observed length L
 * (tail: newest seq or 0; window: version; a 409: `found`) sits after the L-th
 * write and before the (L+1)-th. As in Elle's list-append inference, the
 * values themselves reveal the version order, so nothing is left to guess.
 * Give the append at seq s position 2s and an observation of L position 2L+1.
 *
 * Sound: if a completed before b was invoked, every linearization puts a
 * before b, and every legal sequential history orders ops by position, so
 * pos(a) > pos(b) admits no linearization.
 * Complete: if no such pair exists, order ops by (position, invocation). That
 * order is legal for the log (write positions are unique and dense once the
 * content checks and the log checker pass, and each read lands between the
 * writes it saw), and it respects real time: a before b in real time implies
 * pos(a) <= pos(b), and on a tie both are reads of one length, where
 * a.complete < b.invoke implies a.invoke < b.invoke. Ops with unknown outcome
 * complete at +infinity, so they precede nothing.
 * A Wing–Gong search would find exactly this: every state it can reach is a
 * length, and the only op that can move length L to L+1 is the write at seq
 * L+1, so it succeeds iff the (position, invocation) order is a linearization.
 *
 * Checking every real-time pair is O(n²); instead sweep ops by invocation,
 * folding in those that completed strictly earlier (touching ops are
 * concurrent) and keeping the one with the greatest position: O(n log n),
 * and the witness pair falls out of the sweep.
 */
export function checkLinearizable(ops: readonly Op[], final: FinalLog): Anomaly[] {
  const ctx = final.context;
  const out: Anomaly[] = [];
  const add = (message: string, slice: readonly Op[]) => out.push(anomaly(CHECKER, ctx, message, slice));
  const mine = ops.filter((op) => op.context === ctx);
  const appends = mine.filter(isAppend);
  const writerOf = writers(appends);
  const finalSeqs = seqsByText(final.texts);

  const points: Point[] = [];
  const bySeq = new Map<number, Point>();
  for (const [text, attempts] of groupBy(appends, (op) => op.text)) {
    const write = writePoint(text, attempts, finalSeqs.get(text)?.[0]);
    if (!write) continue;
    const seq = write.pos / 2;
    const other = bySeq.get(seq);
    if (other) {
      add(`two appends took seq ${seq}: ${other.what} and ${write.what}`, [other.done, write.done]);
      continue;
    }
    bySeq.set(seq, write);
    points.push(write);
  }

  for (const op of mine) {
    if (op.kind === 'append') {
      if (op.outcome === 'ok' && op.ifVersion !== undefined && op.seq !== op.ifVersion + 1) {
        add(`append ${quote(op.text)} with ifVersion ${op.ifVersion} was acknowledged at seq ${op.seq}`, [
          op,
        ]);
      }
      if (op.outcome !== 'fail' || op.found === undefined) continue;
      if (op.found === op.ifVersion) {
        add(`append ${quote(op.text)} was refused on ifVersion ${op.ifVersion} yet found that version`, [op]);
      }
      if (op.found > final.texts.length) {
        add(`409 found version ${op.found}, beyond the final log's ${final.texts.length} messages`, [op]);
      }
    } else if (op.outcome === 'ok') {
      const problems = contentProblems(op, final.texts);
      if (problems.length > 0) {
        const culprits = problems
          .flatMap((p) => [p.expected, p.observed])
          .map((t) => (t === undefined ? undefined : writerOf(t)));
        const message = `${describe(op)} does not match the log: ${problems.map((p) => p.text).join('; ')}`;
        add(message, [op, ...culprits.filter((w): w is AppendOp => w !== undefined)]);
      }
    }
    const length = op.kind === 'append' && op.outcome === 'ok' ? undefined : observedLength(op);
    if (length === undefined) continue;
    points.push({
      pos: 2 * length + 1,
      invoke: op.invoke,
      complete: op.complete,
      done: op,
      started: op,
      what: describe(op),
    });
  }

  const violations = realTimeViolations(points);
  let shown = 0;
  for (const [a, later] of violations) {
    if (shown++ === MAX_VIOLATIONS) {
      add(`${violations.size - MAX_VIOLATIONS} more real-time violations not shown`, []);
      break;
    }
    const b = later[0];
    const n = later.length - 1;
    const more = n > 0 ? ` (and ${n} later op${n === 1 ? '' : 's'} contradicting the same op)` : '';
    add(violationMessage(a, b) + more, [a.done, b.started]);
  }
  return out;
}

interface Point {
  /** 2s for the append at seq s; 2L + 1 for an observation of length L. */
  readonly pos: number;
  readonly invoke: number;
  /** +Infinity when never acknowledged: such an op precedes nothing. */
  readonly complete: number;
  /** The op to report when this point precedes another: the one whose completion counts. */
  readonly done: Op;
  /** The op to report when it follows another: the one whose invocation counts. */
  readonly started: Op;
  readonly what: string;
}

/**
 * All attempts of one logical append are one write: it may have applied from
 * its first attempt that could apply (a `fail` proved its own attempt did not)
 * and had certainly applied by its first acknowledgement. Judging retries one
 * by one would flag a read that saw the write before a later retry started.
 */
function writePoint(text: string, attempts: readonly AppendOp[], finalSeq?: number): Point | undefined {
  const live = attempts.filter((op) => op.outcome !== 'fail');
  if (live.length === 0) return undefined;
  const acked = live.filter((op) => op.outcome === 'ok').sort((a, b) => a.complete - b.complete);
  const seq = acked.find((op) => op.seq !== undefined)?.seq ?? finalSeq;
  if (seq === undefined) return undefined;
  const started = live.reduce((a, b) => (b.invoke < a.invoke ? b : a));
  const done = acked[0] ?? started;
  const complete = acked[0]?.complete ?? Number.POSITIVE_INFINITY;
  return {
    pos: 2 * seq,
    invoke: started.invoke,
    complete,
    done,
    started,
    what: `append ${quote(text)} (seq ${seq})`,
  };
}

/**
 * Each op with greater position that completed before others were invoked →
 * those others. A read is blamed on the newest append it misses when there is
 * one (a stale read names the write it lost), else on the newest read.
 */
function realTimeViolations(points: readonly Point[]): Map<Point, Point[]> {
  const byComplete = points
    .filter((p) => Number.isFinite(p.complete))
    .sort((a, b) => a.complete - b.complete);
  const byInvoke = [...points].sort((a, b) => a.invoke - b.invoke || a.pos - b.pos);
  const violations = new Map<Point, Point[]>();
  let next = 0;
  let top: Point | undefined;
  let topWrite: Point | undefined;
  for (const b of byInvoke) {
    while (next < byComplete.length && byComplete[next].complete < b.invoke) {
      const a = byComplete[next++];
      if (!top || a.pos > top.pos) top = a;
      if (a.pos % 2 === 0 && (!topWrite || a.pos > topWrite.pos)) topWrite = a;
    }
    if (!top || top.pos <= b.pos) continue;
    const witness = b.pos % 2 === 1 && topWrite && topWrite.pos > b.pos ? topWrite : top;
    const later = violations.get(witness);
    if (later) later.push(b);
    else violations.set(witness, [b]);
  }
  return violations;
}

function violationMessage(a: Point, b: Point): string {
  const gap = ms(b.invoke - a.complete);
  const aWrite = a.pos % 2 === 0;
  const bWrite = b.pos % 2 === 0;
  if (aWrite && !bWrite) {
    return `stale read: ${b.what} was invoked ${gap} after ${a.what} was acknowledged, yet misses it`;
  }
  if (!aWrite && bWrite) {
    return `future read: ${a.what} completed ${gap} before ${b.what} was invoked, yet includes it`;
  }
  if (!aWrite) return `read went back in time: ${a.what} completed ${gap} before ${b.what} was invoked`;
  return `${a.what} was acknowledged ${gap} before ${b.what} was invoked, yet landed after it`;
}

function describe(op: Op): string {
  const length = observedLength(op);
  if (op.kind === 'append') return `409 on ifVersion ${op.ifVersion} (found length ${length})`;
  return `${op.kind} read (length ${length ?? '?'})`;
}

interface Problem {
  readonly text: string;
  /** The final log's text at a mismatched seq, and the text read there. */
  readonly expected?: string;
  readonly observed?: string;
}

/**
 * A read's messages against the final log. A tail is the contiguous newest run
 * ending at the observed length; a window's messages (summaries aside, which
 * carry no seq) rise to its version. Texts must be the final log's.
 */
function contentProblems(op: TailReadOp | WindowReadOp, texts: readonly string[]): Problem[] {
  const messages = op.messages ?? [];
  const problems: Problem[] = [];
  const length = observedLength(op);
  if (length !== undefined && length > texts.length) {
    problems.push({ text: `observed length ${length}, beyond the final log's ${texts.length} messages` });
  }
  const seqs = messages.map((m) => m.seq);
  if (op.kind === 'tail') {
    const first = (length ?? 0) - messages.length + 1;
    if (seqs.some((seq, i) => seq !== first + i)) {
      problems.push({
        text: `seqs [${seqs.join(', ')}] are not the contiguous newest run ending at ${length}`,
      });
    }
  } else {
    const numbered = seqs.filter((seq): seq is number => seq !== null);
    if (numbered.some((seq, i) => i > 0 && seq <= numbered[i - 1])) {
      problems.push({ text: `seqs [${numbered.join(', ')}] do not increase` });
    }
    const newest = numbered.at(-1);
    if (newest !== undefined && newest !== op.version) {
      problems.push({ text: `newest message has seq ${newest} but version is ${op.version}` });
    }
  }
  for (const m of messages) {
    if (m.seq === null || m.seq < 1 || m.seq > texts.length) continue;
    const expected = texts[m.seq - 1];
    if (m.text === expected) continue;
    problems.push({
      text: `seq ${m.seq} read as ${quote(m.text)} but the final log has ${quote(expected)}`,
      expected,
      observed: m.text,
    });
    if (problems.length >= 3) break;
  }
  return problems;
}
