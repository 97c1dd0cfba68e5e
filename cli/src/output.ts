import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Where results go: human text by default, JSON with `--json`. Results and
 * streamed rows go to stdout; notes and errors go to stderr, so stdout stays
 * parseable (and pipeable) in both modes.
 */
export class Output {
  constructor(
    readonly json: boolean,
    readonly stdout: Writable,
    readonly stderr: Writable,
  ) {}

  /**
   * A result, or one row of a stream: `data` as one JSON document (one line)
   * with `--json`, else the human rendering.
   */
  async result(data: unknown, human: () => string): Promise<void> {
    await this.write(this.json ? `${JSON.stringify(data)}\n` : withNewline(human()));
  }

  /** Writes to stdout and waits when the pipe is full, so a large export or a slow reader never buffers in memory. */
  async write(text: string): Promise<void> {
    if (!this.stdout.write(text)) await once(this.stdout, 'drain');
  }

  /** Progress and hints for people, on stderr. */
  note(text: string): void {
    this.stderr.write(withNewline(text));
  }
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

interface Printable {
  seq: number | null;
  role: string;
  parts: readonly { type: string; [key: string]: unknown }[];
  token_count: number;
}

/** A part as one line of text: text as is, reasoning marked as such, anything else as its type. */
function partText(part: Printable['parts'][number]): string {
  if ((part.type === 'text' || part.type === 'reasoning') && typeof part.text === 'string') {
    return part.type === 'text' ? part.text : `[reasoning] ${part.text}`;
  }
  return `[${part.type}]`;
}

/** `#12 user (5 tok): hello`; summary messages of a compacted window have no seq. */
export function formatMessage(message: Printable): string {
  const seq = message.seq === null ? 'summary' : `#${message.seq}`;
  const text = message.parts.map(partText).join(' ');
  return `${seq} ${message.role} (${message.token_count} tok): ${text}`;
}

/** Rows of cells padded into columns (the last column is not padded). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
