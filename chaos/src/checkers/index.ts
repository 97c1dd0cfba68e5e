import type { Anomaly, FinalLog, Op, StreamRecord } from '../history.js';
import { anomaly, groupBy } from './common.js';
import { checkLinearizable } from './linearizable.js';
import { checkLog } from './log.js';
import { checkMonotonic } from './monotonic.js';
import { checkStreams } from './streams.js';

export { checkLinearizable } from './linearizable.js';
export { checkLog } from './log.js';
export { checkMonotonic } from './monotonic.js';
export { formatOp, minimalReport } from './report.js';
export { checkStreams } from './streams.js';

export interface CheckInput {
  readonly ops: readonly Op[];
  readonly streams: readonly StreamRecord[];
  /** One per context the run touched, read when every node was healthy. */
  readonly finals: readonly FinalLog[];
}

/** Every checker over a run. A context without a final log cannot be judged, which is itself reported. */
export function checkAll(history: CheckInput): Anomaly[] {
  const finals = new Map<string, FinalLog>();
  for (const final of history.finals) if (!finals.has(final.context)) finals.set(final.context, final);

  const out: Anomaly[] = [];
  const touched = new Set([...history.ops, ...history.streams].map((x) => x.context));
  for (const ctx of touched) {
    if (!finals.has(ctx)) out.push(anomaly('history', ctx, 'no final log was read for this context', []));
  }
  const opsOf = groupBy(history.ops, (op) => op.context);
  const streamsOf = groupBy(history.streams, (record) => record.context);
  for (const final of finals.values()) {
    const ops = opsOf.get(final.context) ?? [];
    out.push(
      ...checkLog(ops, final),
      ...checkLinearizable(ops, final),
      ...checkStreams(streamsOf.get(final.context) ?? [], final, ops),
    );
  }
  out.push(...checkMonotonic(history.ops));
  return out;
}
