import type { Anomaly, Op } from '../history.js';
import { anomaly, groupBy, observedLength } from './common.js';

const CHECKER = 'monotonic';

/**
 * Monotonic reads per client: one process runs one op at a time, so each of
 * its ops starts after the previous one's outcome, and the log length it is
 * shown (reads, ok appends' version, a 409's `found`) must never shrink.
 * Linearizability implies this; it is checked apart because a per-client
 * regression is the easiest anomaly to read, and needs no final log.
 *
 * One report per high-water mark: every later op below the same mark is the
 * same regression seen again.
 */
export function checkMonotonic(ops: readonly Op[]): Anomaly[] {
  const out: Anomaly[] = [];
  const streams = groupBy(ops, (op) => `${op.process}\u0000${op.context}`);
  for (const sequence of streams.values()) {
    const ordered = [...sequence].sort((a, b) => a.invoke - b.invoke || a.index - b.index);
    let mark: { op: Op; length: number } | undefined;
    let reported: Op | undefined;
    for (const op of ordered) {
      const length = observedLength(op);
      if (length === undefined) continue;
      if (!mark || length >= mark.length) {
        mark = { op, length };
        continue;
      }
      if (reported === mark.op) continue;
      reported = mark.op;
      out.push(
        anomaly(
          CHECKER,
          op.context,
          `client ${op.process} saw length ${mark.length} (op #${mark.op.index}) and then ` +
            `length ${length} (op #${op.index}) on a later op`,
          [mark.op, op],
        ),
      );
    }
  }
  return out;
}
