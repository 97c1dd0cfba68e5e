import type { EventStream, Message, SubscriptionEvent } from '../../src/index.js';

/** Drains a subscription in the background. */
export function collect(stream: EventStream): {
  events: SubscriptionEvent[];
  finished: Promise<unknown>;
} {
  const events: SubscriptionEvent[] = [];
  const finished = (async () => {
    for await (const event of stream) events.push(event);
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  return { events, finished };
}

/** Every message a consumer learned about, from `message` and `gap_filled` events, in delivery order. */
export function deliveredMessages(events: readonly SubscriptionEvent[]): Message[] {
  const out: Message[] = [];
  for (const event of events) {
    if (event.type === 'message') out.push(event.message);
    if (event.type === 'gap_filled') out.push(...event.messages);
  }
  return out;
}

/**
 * The delivery guarantees: versions never go back, the events of one version
 * are contiguous (no version is delivered twice), and message seqs are dense
 * from `firstSeq` on (nothing missed, nothing repeated).
 */
export function checkDelivery(events: readonly SubscriptionEvent[], firstSeq = 1): void {
  const seen = new Set<number>();
  let previous = -1;
  for (const event of events) {
    if (event.type === 'reset') throw new Error(`unexpected reset at version ${event.version}`);
    if (event.version < previous) throw new Error(`version went back from ${previous} to ${event.version}`);
    if (event.version !== previous) {
      if (seen.has(event.version)) throw new Error(`version ${event.version} delivered twice`);
      seen.add(event.version);
      previous = event.version;
    }
  }
  const seqs = deliveredMessages(events).map((m) => m.seq);
  seqs.forEach((seq, i) => {
    if (seq !== firstSeq + i) throw new Error(`message seqs are not dense: ${seqs.join(',')}`);
  });
}
