import type { Anomaly, AppendOp, FinalLog, Op } from '../history.js';
import { anomaly, groupBy, isAppend, quote, seqsByText, writers } from './common.js';

const CHECKER = 'log';

/**
 * The final log against what appenders were told. Texts are unique per run and
 * retries reuse text and key, so a text identifies one logical append and all
 * its attempts.
 *
 * - every acknowledged append is in the log exactly once, at the seq it was
 *   acknowledged with (a missing one is a lost ack);
 * - every text in the log was appended by an attempt that could have applied
 *   (ok or unknown): a text whose every attempt was proved not applied is a
 *   lie in one of the two places;
 * - acknowledgements of one key agree (an idempotent replay returns the
 *   original seq);
 * - no compactions in the workload, so version == length for the log and for
 *   every acknowledged append.
 */
export function checkLog(ops: readonly Op[], final: FinalLog): Anomaly[] {
  const ctx = final.context;
  const out: Anomaly[] = [];
  const add = (message: string, slice: readonly Op[]) => out.push(anomaly(CHECKER, ctx, message, slice));

  const appends = ops.filter((op): op is AppendOp => isAppend(op) && op.context === ctx);
  const attemptsByText = groupBy(appends, (op) => op.text);
  const seqsOf = seqsByText(final.texts);
  const writerOf = writers(appends);

  if (final.version !== final.texts.length) {
    add(
      `final log has version ${final.version} but holds ${final.texts.length} messages ` +
        '(without compactions every append is exactly one write)',
      [],
    );
  }

  for (const [text, seqs] of seqsOf) {
    const attempts = attemptsByText.get(text) ?? [];
    if (seqs.length > 1) {
      add(
        `duplicate: ${quote(text)} appears ${seqs.length} times in the final log (seqs ${seqs.join(', ')})`,
        [...attempts],
      );
    }
    if (attempts.length === 0) {
      add(`${quote(text)} at seq ${seqs[0]} of the final log was never appended to this context`, []);
    } else if (attempts.every((op) => op.outcome === 'fail')) {
      add(
        `${quote(text)} was proved not applied but is present at seq ${seqs[0]} of the final log`,
        attempts,
      );
    }
  }

  for (const [text, attempts] of attemptsByText) {
    const acked = attempts.filter((op) => op.outcome === 'ok');
    if (acked.length === 0) continue;
    const seqs = seqsOf.get(text);
    if (!seqs) {
      const at = acked.map((op) => op.seq ?? '?').join(', ');
      add(`lost ack: ${quote(text)} was acknowledged at seq ${at} but is missing from the final log`, acked);
      continue;
    }
    for (const op of acked) {
      if (op.seq !== undefined && !seqs.includes(op.seq)) {
        const occupant = final.texts[op.seq - 1];
        const holder = occupant === undefined ? undefined : writerOf(occupant);
        const where = occupant === undefined ? 'is past the end of the log' : `holds ${quote(occupant)}`;
        add(
          `seq mismatch: ${quote(text)} was acknowledged at seq ${op.seq} but is at seq ${seqs.join(', ')} ` +
            `of the final log (seq ${op.seq} ${where})`,
          holder ? [op, holder] : [op],
        );
      }
      if (op.seq !== undefined && op.version !== undefined && op.version !== op.seq) {
        add(
          `${quote(text)} was acknowledged at seq ${op.seq} with version ${op.version}; ` +
            'without compactions they must be equal',
          [op],
        );
      }
    }
  }

  // A replay must return what the key's first acknowledgement said.
  const byKey = groupBy(
    appends.filter((op) => op.outcome === 'ok'),
    (op) => op.key,
  );
  for (const [key, acked] of byKey) {
    const [first, ...rest] = [...acked].sort((a, b) => a.complete - b.complete || a.index - b.index);
    for (const op of rest) {
      if (op.seq === first.seq && op.version === first.version) continue;
      add(
        `key ${quote(key)} was acknowledged at seq ${first.seq} (version ${first.version}) and later ` +
          `${op.replayed ? 'replayed' : 'acknowledged again'} at seq ${op.seq} (version ${op.version})`,
        [first, op],
      );
    }
  }
  return out;
}
