import type { Context, Message, MessagesPage } from '@fastpaca/contract';
import { limits } from '@fastpaca/contract';

export interface GapFillSource {
  getContext(signal: AbortSignal): Promise<Context>;
  listMessages(afterSeq: number, limit: number, signal: AbortSignal): Promise<MessagesPage>;
}

export type GapFill =
  /** Every message after the consumer's last seq up to `context.last_seq`. */
  | { kind: 'filled'; context: Context; messages: Message[] }
  /** What was missed cannot be told (unknown last seq, or more than the bound): the consumer must refetch. */
  | { kind: 'unknown'; context: Context };

/**
 * Recovers from a `gap` (the cursor fell out of the server's replay buffer).
 * The context is read first: its `version` and `last_seq` are one consistent
 * point, so the messages up to `last_seq` are exactly what happened up to
 * `version`, and the stream resumes from that version with nothing missed and
 * nothing repeated. Messages appended meanwhile are left to the stream.
 */
export async function fillGap(
  source: GapFillSource,
  options: {
    lastSeq: number | undefined;
    includeMessages: boolean;
    messagesMax: number;
    signal: AbortSignal;
  },
): Promise<GapFill> {
  const context = await source.getContext(options.signal);
  if (!options.includeMessages) return { kind: 'filled', context, messages: [] };
  const { lastSeq } = options;
  if (
    lastSeq === undefined ||
    lastSeq > context.last_seq ||
    context.last_seq - lastSeq > options.messagesMax
  ) {
    return { kind: 'unknown', context };
  }
  const messages: Message[] = [];
  let after = lastSeq;
  // Each page moves `after` forward by at least one seq, so this ends within last_seq - lastSeq pages.
  while (after < context.last_seq) {
    const limit = Math.min(limits.page_limit_max, context.last_seq - after);
    const page = await source.listMessages(after, limit, options.signal);
    const fresh = page.messages.filter((m) => m.seq > after && m.seq <= context.last_seq);
    // Seqs are dense; a page that does not continue at after + 1 means history is not all there.
    if (fresh.length === 0 || fresh[0]!.seq !== after + 1) return { kind: 'unknown', context };
    messages.push(...fresh);
    after = fresh[fresh.length - 1]!.seq;
  }
  return { kind: 'filled', context, messages };
}
