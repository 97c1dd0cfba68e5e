import type { Anomaly, ObservedMessage, Op } from '../history.js';
import { quote } from './common.js';

/**
 * A text report a person can act on: each anomaly's checker, context and
 * message, then its ops one per line. Times are relative to the earliest
 * invocation among the anomaly's ops, since that gap is what matters.
 */
export function minimalReport(anomalies: readonly Anomaly[], limit = 50): string {
  if (anomalies.length === 0) return 'no anomalies';
  const lines = [`${anomalies.length} ${anomalies.length === 1 ? 'anomaly' : 'anomalies'}`];
  for (const [i, a] of anomalies.slice(0, limit).entries()) {
    lines.push('', `${i + 1}. [${a.checker}] ${a.context}: ${a.message}`);
    const origin = Math.min(...a.ops.map((op) => op.invoke));
    for (const op of a.ops) lines.push(`   ${formatOp(op, origin)}`);
  }
  if (anomalies.length > limit) lines.push('', `... ${anomalies.length - limit} more not shown`);
  return lines.join('\n');
}

/** One op on one line; `origin` is the time shown as +0. */
export function formatOp(op: Op, origin = 0): string {
  const t = (x: number) => `+${(Math.round((x - origin) * 10) / 10).toFixed(1)}`;
  const end = op.outcome === 'unknown' ? `${t(op.complete)}ms (gave up)` : `${t(op.complete)}ms`;
  const fields = [
    `#${op.index}`.padEnd(6),
    op.process.padEnd(4),
    `@${op.node}`.padEnd(5),
    op.kind.padEnd(6),
    `${t(op.invoke)}..${end}`.padEnd(24),
    op.outcome.padEnd(7),
  ];
  if (op.kind === 'append') {
    fields.push(`text=${quote(op.text)}`, `key=${quote(op.key)}`);
    if (op.ifVersion !== undefined) fields.push(`ifVersion=${op.ifVersion}`);
    if (op.seq !== undefined) fields.push(`seq=${op.seq}`);
    if (op.version !== undefined) fields.push(`version=${op.version}`);
    if (op.replayed) fields.push('replayed');
    if (op.found !== undefined) fields.push(`found=${op.found}`);
  } else {
    if (op.kind === 'window' && op.version !== undefined) fields.push(`version=${op.version}`);
    if (op.messages) fields.push(`messages=${formatMessages(op.messages)}`);
  }
  if (op.error !== undefined) fields.push(`error=${quote(op.error)}`);
  if (op.status !== undefined) fields.push(`status=${op.status}`);
  return fields.join(' ').trimEnd();
}

/** Newest few messages are what decide a read; older ones are elided. */
function formatMessages(messages: readonly ObservedMessage[]): string {
  const shown = messages.slice(-4).map((m) => `${m.seq ?? 'summary'}:${quote(m.text)}`);
  const elided = messages.length > 4 ? `${messages.length - 4} older, ` : '';
  return `[${elided}${shown.join(', ')}]`;
}
