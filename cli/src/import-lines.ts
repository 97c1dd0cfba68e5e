import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { limits, MessageInputSchema } from '@fastpaca/contract';
import type { MessageInput } from '@fastpaca/sdk';
import { UsageError } from './args.js';

/**
 * A batch's JSON stays well under the server's default request body limit
 * (1 MiB, `FASTPACA_BODY_LIMIT_BYTES`); a single larger message goes alone.
 */
const batchBytesMax = 512 * 1024;

export interface ImportLine {
  /** The source seq, when the line has one (export lines do). */
  seq: number | undefined;
  lineNumber: number;
  message: MessageInput;
}

export interface Batch {
  messages: MessageInput[];
  /**
   * Derived from where the batch came from (its first and last source seq) and
   * from its content, so re-running the same import repeats the same keys (and
   * appends nothing twice) while two different sources never share one.
   */
  idempotencyKey: string;
  /** The source seq of its last message, if the lines carry seqs. */
  sourceLastSeq: number | undefined;
}

/** One export line as a message to append: role, parts, metadata and (unless `recount`) token_count. */
export function parseLine(text: string, lineNumber: number, recount: boolean): ImportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`line ${lineNumber}: not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`line ${lineNumber}: not a JSON object`);
  }
  const { seq } = value as { seq?: unknown };
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 1)) {
    throw new UsageError(`line ${lineNumber}: seq must be an integer >= 1`);
  }
  // The contract's own schema, so the tool rejects exactly what the server would, naming the field.
  const parsed = MessageInputSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new UsageError(`line ${lineNumber}: ${field}${issue.message}`);
  }
  const message = parsed.data;
  if (recount) delete message.token_count;
  return { seq: seq as number | undefined, lineNumber, message };
}

/** Non-blank lines of `input`, parsed, in order; seqs, where given, must increase as in an export. */
export async function* readLines(
  input: Readable,
  options: { recount: boolean; afterSeq: number },
): AsyncGenerator<ImportLine> {
  let lineNumber = 0;
  let previousSeq = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (text.trim() === '') continue;
    const line = parseLine(text, lineNumber, options.recount);
    if (line.seq !== undefined) {
      if (line.seq <= previousSeq) {
        throw new UsageError(
          `line ${lineNumber}: seq ${line.seq} after seq ${previousSeq}; an export lists each seq once, in order`,
        );
      }
      previousSeq = line.seq;
      if (line.seq <= options.afterSeq) continue;
    }
    yield line;
  }
}

/**
 * Groups lines into atomic turns of at most `size` messages and `batchBytesMax`
 * bytes. The grouping depends only on the input and `size`, which is what lets
 * a re-run find the keys of the batches already appended.
 */
export async function* batches(lines: AsyncIterable<ImportLine>, size: number): AsyncGenerator<Batch> {
  let pending: { line: ImportLine; json: string }[] = [];
  let bytes = 0;
  const flush = (): Batch => {
    const first = pending[0]!.line;
    const last = pending.at(-1)!.line;
    const ref = (line: ImportLine) => (line.seq === undefined ? `L${line.lineNumber}` : String(line.seq));
    const hash = createHash('sha256')
      .update(pending.map((p) => p.json).join('\n'))
      .digest('hex')
      .slice(0, 16);
    const batch = {
      messages: pending.map((p) => p.line.message),
      idempotencyKey: `import:${ref(first)}-${ref(last)}:${hash}`,
      sourceLastSeq: last.seq,
    };
    pending = [];
    bytes = 0;
    return batch;
  };
  for await (const line of lines) {
    const json = JSON.stringify(line.message);
    const messageBytes = Buffer.byteLength(json);
    if (pending.length > 0 && (pending.length >= size || bytes + messageBytes > batchBytesMax)) yield flush();
    pending.push({ line, json });
    bytes += messageBytes;
  }
  if (pending.length > 0) yield flush();
}

export const batchSizeMax = limits.turn_messages_max;
