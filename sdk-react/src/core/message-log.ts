import type { Message } from '@fastpaca/sdk';

/**
 * The loaded part of a context's log: messages in ascending `seq`, each seq
 * once. Pages, live events, gap fills and replays all go through `mergeMessages`,
 * so a message delivered twice (a reconnect that replays, a page that
 * overlaps the stream) is stored once.
 */
export type MessageLog = readonly Message[];

/**
 * Merges `incoming` into `log`. Messages already present keep their object
 * (so rows rendered from them do not re-render); the result is `log` itself
 * when nothing is new. Live appends, the common case, are newer than
 * everything loaded and take the fast path.
 */
export function mergeMessages(log: MessageLog, incoming: readonly Message[]): MessageLog {
  if (incoming.length === 0) return log;
  let previous = log.length > 0 ? log[log.length - 1]!.seq : 0;
  let appendable = true;
  for (const message of incoming) {
    if (message.seq <= previous) {
      appendable = false;
      break;
    }
    previous = message.seq;
  }
  if (appendable) return log.concat(incoming);
  const bySeq = new Map<number, Message>();
  for (const message of incoming) bySeq.set(message.seq, message);
  for (const message of log) bySeq.set(message.seq, message);
  if (bySeq.size === log.length) return log;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Drops the oldest messages beyond `max`, so a long-lived live view holds a bounded number. */
export function keepNewest(log: MessageLog, max: number): MessageLog {
  return log.length > max ? log.slice(log.length - max) : log;
}

/** Binary search: whether a message with this seq is loaded. */
export function hasSeq(log: MessageLog, seq: number): boolean {
  let low = 0;
  let high = log.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const at = log[mid]!.seq;
    if (at === seq) return true;
    if (at < seq) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}

/** The ai-sdk UI message id a stored message was appended with, if any. */
export function uiMessageIdOf(message: { metadata: Record<string, unknown> }): string | undefined {
  const id = message.metadata.ui_message_id;
  return typeof id === 'string' ? id : undefined;
}
