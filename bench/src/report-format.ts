/** Number formats and markdown tables for the benchmark report. */

export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const f1 = (n: number) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
    : 'n/a';
export const f2 = (n: number) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    : 'n/a';
export const ratio = (n: number) => (Number.isFinite(n) ? `${f2(n)}×` : 'n/a');
export const mib = (bytes: number) =>
  Number.isFinite(bytes) && bytes > 0 ? `${f0(bytes / 2 ** 20)} MiB` : 'n/a';
export const seconds = (ms: number) => `${f2(ms / 1000)} s`;

/** A markdown table; `align` has one entry per column, `r` for numbers. */
export function table(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** One line of the summary table at the top of a run. */
export interface SummaryRow {
  scenario: string;
  result: string;
  baseline: string;
  ratio: string;
  target: string;
  /** `met`, `MISSED`, or a note when there is no target or it does not apply to this profile. */
  met: string;
}

/** What each scenario hands back to the runner. */
export interface ScenarioReport {
  title: string;
  markdown: string;
  summary: SummaryRow[];
}

export const verdict = (ok: boolean) => (ok ? 'met' : '**MISSED**');
