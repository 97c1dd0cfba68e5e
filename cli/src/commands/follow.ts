import type { ContextHandle, Message, SubscriptionStatus } from '@fastpaca/sdk';
import { contextId, intOption, takePositionals, UsageError } from '../args.js';
import { formatMessage, type Output } from '../output.js';
import type { Command } from './command.js';

/**
 * Prints every message after `afterSeq`, then live ones, until `signal` aborts
 * or the context is deleted. The stream resumes by version, the user by seq:
 * catching up over `/messages` to the context read at the start, then
 * subscribing from that read's version, leaves no gap; messages that arrive
 * twice (catch-up and stream overlap, or a reset) are dropped by seq.
 */
async function follow(
  handle: ContextHandle,
  afterSeq: number | undefined,
  out: Output,
  signal: AbortSignal,
): Promise<void> {
  const start = await handle.get({ signal });
  let last = afterSeq ?? start.last_seq;
  const emit = async (message: Message) => {
    if (message.seq <= last) return;
    last = message.seq;
    await out.result(message, () => formatMessage(message));
  };
  const catchUp = async () => {
    for await (const message of handle.history({ afterSeq: last, signal })) await emit(message);
  };
  await catchUp();

  let opened = false;
  const onStatus = (status: SubscriptionStatus) => {
    if (status === 'open') {
      out.note(`${opened ? 'reconnected' : 'following'} ${handle.id}; Ctrl-C to stop`);
      opened = true;
    } else if (status === 'reconnecting' && opened) {
      out.note('connection lost; reconnecting');
    }
  };
  const stream = handle.subscribe({ cursor: start.version, lastSeq: start.last_seq, signal, onStatus });
  for await (const event of stream) {
    switch (event.type) {
      case 'message':
        await emit(event.message);
        break;
      case 'gap_filled':
        for (const message of event.messages) await emit(message);
        break;
      case 'reset':
        // The SDK could not reconcile the stream; the log by seq is still the truth.
        await catchUp();
        break;
      case 'tombstoned':
        out.note(`${handle.id} was deleted`);
        break;
    }
  }
  const end = await stream.done;
  if (end.reason === 'error') throw end.error;
}

export const followCommand: Command = {
  name: 'follow',
  args: '<id>',
  summary: 'Print messages live as they are appended, until Ctrl-C',
  details:
    'Starts after the newest message, or first prints the history from --from-seq (or after\n' +
    '--after-seq), then streams over a websocket that reconnects and resumes by itself. To pick up\n' +
    'where an earlier run stopped, pass the last seq it printed as --after-seq: nothing is missed or\n' +
    'repeated. Exits 0 on Ctrl-C (SIGINT), SIGTERM, or when the context is deleted. With --json, each\n' +
    'message is one JSON line, in the export format.',
  options: {
    'from-seq': { type: 'string', value: '<n>', description: 'Start with message n (1 = the whole history)' },
    'after-seq': { type: 'string', value: '<n>', description: 'Start with the message after n' },
  },
  examples: [
    'fastpaca follow chat-42',
    'fastpaca follow chat-42 --from-seq 1 --json > chat-42.jsonl',
    'fastpaca follow chat-42 --after-seq "$(tail -n1 chat-42.jsonl | jq .seq)" --json >> chat-42.jsonl',
  ],
  async run({ values, positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const id = contextId(raw!);
    const fromSeq = intOption(values, 'from-seq', { min: 1 });
    const afterSeq = intOption(values, 'after-seq', { min: 0 });
    if (fromSeq !== undefined && afterSeq !== undefined) {
      throw new UsageError('give --from-seq or --after-seq, not both');
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await follow(
        client().contextHandle(id),
        fromSeq !== undefined ? fromSeq - 1 : afterSeq,
        out,
        stop.signal,
      );
    } catch (error) {
      // Interrupted while catching up: a requested stop, not a failure.
      if (!stop.signal.aborted) throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
