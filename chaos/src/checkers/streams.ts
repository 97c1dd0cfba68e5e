import type { Anomaly, AppendOp, FinalLog, Op, StreamRecord } from '../history.js';
import { anomaly, isAppend, quote, writers } from './common.js';

const CHECKER = 'stream';
/** Anomalies reported per subscriber: after a few, the rest are usually the same fault. */
const MAX_PER_SUBSCRIBER = 5;

/**
 * What each subscriber of this context received, against the final log. Live
 * messages and gap fills together must deliver every seq after the start
 * exactly once and in order, with the log's texts and rising versions. A
 * `reset` is the SDK admitting it lost continuity: delivery restarts after
 * `reset.lastSeq`, so seqs it repeats after a reset are not duplicates.
 *
 * Stream events are not ops, so an anomaly names the subscriber and event in
 * its message; `ops` (optional) lets it carry the appends of the seqs involved.
 */
export function checkStreams(
  streams: readonly StreamRecord[],
  final: FinalLog,
  ops: readonly Op[] = [],
): Anomaly[] {
  const ctx = final.context;
  const writerOf = writers(ops.filter((op): op is AppendOp => isAppend(op) && op.context === ctx));
  const writerAt = (seq: number) => {
    const text = final.texts[seq - 1];
    return text === undefined ? undefined : writerOf(text);
  };
  const out: Anomaly[] = [];
  for (const record of streams) {
    if (record.context !== ctx) continue;
    const found = checkSubscriber(record, final.texts);
    const who = `subscriber ${record.process} on ${record.node} (after seq ${record.fromSeq})`;
    for (const [i, problem] of found.entries()) {
      if (i === MAX_PER_SUBSCRIBER) {
        out.push(anomaly(CHECKER, ctx, `${who}: ${found.length - i} more stream anomalies not shown`, []));
        break;
      }
      const slice = problem.seqs.map(writerAt).filter((op): op is AppendOp => op !== undefined);
      out.push(anomaly(CHECKER, ctx, `${who}, event ${problem.event}: ${problem.text}`, slice));
    }
  }
  return out;
}

interface Problem {
  readonly event: number;
  readonly text: string;
  /** Seqs whose appends show the problem. */
  readonly seqs: readonly number[];
}

function checkSubscriber(record: StreamRecord, texts: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  let next = record.fromSeq + 1;
  let version = record.fromVersion;
  let delivered = new Set<number>();
  let event = 0;
  const report = (text: string, seqs: readonly number[] = []) => problems.push({ event, text, seqs });

  const deliver = (seq: number, text: string) => {
    if (seq < next) {
      const why = delivered.has(seq) ? 'delivered twice' : `delivered out of order (expected ${next})`;
      report(`seq ${seq} ${why}`, [seq]);
      return;
    }
    if (seq > next) {
      const missing = seq - next === 1 ? `seq ${next}` : `seqs ${next}..${seq - 1}`;
      report(`hole: ${missing} never delivered before seq ${seq}`, [next, seq - 1]);
    }
    if (seq > texts.length) {
      report(`seq ${seq} delivered, beyond the final log's ${texts.length} messages`);
    } else if (text !== texts[seq - 1]) {
      report(`seq ${seq} delivered as ${quote(text)} but the final log has ${quote(texts[seq - 1])}`, [seq]);
    }
    delivered.add(seq);
    next = seq + 1;
  };

  for (const e of record.events) {
    event++;
    if (e.type === 'message') {
      if (e.version <= version) report(`message seq ${e.seq} has version ${e.version}, not above ${version}`);
      deliver(e.seq, e.text);
      version = Math.max(version, e.version);
    } else if (e.type === 'gap_filled') {
      for (const m of e.messages) deliver(m.seq, m.text);
      const last = e.messages.at(-1);
      if (last && e.version < last.seq) {
        report(`gap fill up to version ${e.version} delivered seq ${last.seq}`, [last.seq]);
      }
      // An empty fill may find nothing new; a fill with messages saw new writes.
      if (e.version < version || (last && e.version === version)) {
        report(`gap fill has version ${e.version}, not above ${version}`);
      }
      version = Math.max(version, e.version);
    } else {
      if (e.lastSeq > texts.length) {
        report(`reset after seq ${e.lastSeq}, beyond the final log's ${texts.length} messages`);
      }
      next = e.lastSeq + 1;
      version = e.version;
      delivered = new Set();
    }
  }
  return problems;
}
