import type { Anomaly, AppendOp, Op } from '../history.js';

/** An anomaly carries at most this many ops: enough to show it, few enough to read. */
export const MAX_OPS = 6;

export function anomaly(checker: string, context: string, message: string, ops: readonly Op[]): Anomaly {
  const unique = [...new Set(ops)];
  return { checker, context, message, ops: unique.slice(0, MAX_OPS) };
}

export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function isAppend(op: Op): op is AppendOp {
  return op.kind === 'append';
}

/**
 * The log length an op shows its client, if it shows one: an ok read's length
 * (tail: newest seq, or 0 when empty; window: its version), an ok append's
 * version, or the version a 409 found. Without compactions, version == length.
 * A replay reports the original append's version, which says nothing about
 * the log when the replay was served.
 */
export function observedLength(op: Op): number | undefined {
  if (op.kind === 'append') {
    if (op.outcome === 'ok') return op.replayed ? undefined : (op.version ?? op.seq);
    return op.outcome === 'fail' ? op.found : undefined;
  }
  if (op.outcome !== 'ok') return undefined;
  if (op.kind === 'window') return op.version;
  if (!op.messages) return undefined;
  const newest = op.messages.at(-1);
  if (!newest) return 0;
  return newest.seq ?? undefined;
}

/** `texts[seq - 1]` → seqs it occupies (more than one is itself an anomaly). */
export function seqsByText(texts: readonly string[]): Map<string, number[]> {
  const seqs = new Map<string, number[]>();
  texts.forEach((text, i) => {
    const list = seqs.get(text);
    if (list) list.push(i + 1);
    else seqs.set(text, [i + 1]);
  });
  return seqs;
}

export function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}

export function ms(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 10) / 10}ms` : 'never';
}

/** Who appended a text, for reports: its first acknowledged attempt, else its first attempt. */
export function writers(appends: readonly AppendOp[]): (text: string) => AppendOp | undefined {
  const byText = groupBy(appends, (op) => op.text);
  return (text) => {
    const attempts = byText.get(text);
    return attempts?.find((op) => op.outcome === 'ok') ?? attempts?.[0];
  };
}
