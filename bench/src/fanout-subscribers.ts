/**
 * Child process of the stream fan-out benchmark: holds a share of the
 * subscribers, timestamps every `message` frame on arrival and, when asked,
 * turns arrivals into latency histograms against the orchestrator's ack times.
 */
import WebSocket from 'ws';
import { type FromSubscribers, now, type ToSubscribers } from './fanout-protocol.js';
import { LatencyHistogram } from './latency-histogram.js';
import { RawWebSocket } from './raw-ws-client.js';

const pong = JSON.stringify({ type: 'pong' });
/** Frames start with `{"type":"`, so the type's first letter sits at this offset. */
const type_offset = 9;
const letter = (c: string) => c.charCodeAt(0);
const comma = letter(',');

/**
 * Where a frame's version digits start: `{"type":"<type>","version":` is
 * 9 + type length + 12 bytes, because the server writes `type` then
 * `version` first. Checked before use; a frame laid out otherwise is counted
 * as unexpected.
 */
const version_at = { message: 28, context: 28, compaction: 31 };

/** Parses the decimal digits at `at`; returns the value and where it ended. */
function digitsAt(buf: Buffer, at: number, end: number): [number, number] {
  let n = 0;
  let i = at;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return [i === at ? -1 : n, i];
}

class Subscriber {
  /** Arrival time per seq (index seq - 1); NaN until it arrives. */
  readonly arrivals: Float64Array;
  frames = 0;
  messageFrames = 0;
  duplicates = 0;
  outOfOrder = 0;
  unexpected = 0;
  lastSeq = 0;
  closeCode: number | undefined;
  send: (text: string) => void = () => {};
  close: () => void = () => {};

  constructor(
    seqMax: number,
    private readonly measureFrom: number,
  ) {
    this.arrivals = new Float64Array(seqMax).fill(Number.NaN);
  }

  /** One text frame, `buf[start, end)`, as cheaply as possible: only the type, version and seq are read. */
  text(buf: Buffer, start: number, end: number, at: number): void {
    const kind = buf[start + type_offset];
    if (kind === letter('p')) {
      this.send(pong);
      return;
    }
    const offset =
      kind === letter('m')
        ? version_at.message
        : kind === letter('c')
          ? buf[start + type_offset + 3] === letter('t')
            ? version_at.context
            : version_at.compaction
          : -1;
    if (offset < 0 || buf[start + offset - 1] !== letter(':')) {
      this.unexpected++;
      return;
    }
    const [version, after] = digitsAt(buf, start + offset, end);
    if (version >= this.measureFrom) this.frames++;
    if (kind !== letter('m')) return;
    // `,"seq":` follows the version in a message frame.
    const [seq] = buf[after] === comma ? digitsAt(buf, after + 7, end) : [-1];
    if (seq < 1 || seq > this.arrivals.length) {
      this.unexpected++;
      return;
    }
    if (version >= this.measureFrom) this.messageFrames++;
    if (!Number.isNaN(this.arrivals[seq - 1]!)) this.duplicates++;
    else this.arrivals[seq - 1] = at;
    if (seq <= this.lastSeq) this.outOfOrder++;
    this.lastSeq = Math.max(this.lastSeq, seq);
  }
}

let subscribers: Subscriber[] = [];

function reply(message: FromSubscribers): void {
  process.send?.(message);
}

async function open(url: string, client: 'raw' | 'ws', sub: Subscriber): Promise<void> {
  if (client === 'raw') {
    const ws = await RawWebSocket.open(
      url,
      {
        frame: (opcode, buf, start, end, at) => {
          if (opcode === 1) sub.text(buf, start, end, at);
        },
        close: (code) => {
          sub.closeCode = code;
        },
      },
      now,
    );
    sub.send = (text) => ws.sendText(text);
    sub.close = () => ws.close();
    return;
  }
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) sub.text(data as Buffer, 0, (data as Buffer).length, now());
  });
  ws.on('close', (code) => {
    sub.closeCode = code;
  });
  sub.send = (text) => ws.send(text);
  sub.close = () => ws.close();
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
}

function report(m: Extract<ToSubscribers, { type: 'report' }>): FromSubscribers {
  const fromAck = new LatencyHistogram();
  const fromSend = new LatencyHistogram();
  let missed = 0;
  const closedEarly: Record<string, number> = {};
  for (const sub of subscribers) {
    for (let seq = m.from_seq; seq <= m.to_seq; seq++) {
      const at = sub.arrivals[seq - 1]!;
      if (Number.isNaN(at)) {
        missed++;
        continue;
      }
      // Arrival in the parent's clock.
      const parentAt = at - m.offset_ms;
      fromAck.record(parentAt - m.acked_ms[seq - m.from_seq]!);
      fromSend.record(parentAt - m.sent_ms[seq - m.from_seq]!);
    }
    if (sub.closeCode !== undefined) closedEarly[sub.closeCode] = (closedEarly[sub.closeCode] ?? 0) + 1;
  }
  return {
    type: 'report',
    from_ack: fromAck.toSparse(),
    from_send: fromSend.toSparse(),
    frames: subscribers.reduce((n, s) => n + s.frames, 0),
    message_frames: subscribers.reduce((n, s) => n + s.messageFrames, 0),
    missed,
    duplicates: subscribers.reduce((n, s) => n + s.duplicates, 0),
    out_of_order: subscribers.reduce((n, s) => n + s.outOfOrder, 0),
    unexpected: subscribers.reduce((n, s) => n + s.unexpected, 0),
    closed_early: closedEarly,
  };
}

async function awaitSeq(seq: number, timeoutMs: number): Promise<FromSubscribers> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const behind = subscribers.filter((s) => s.closeCode === undefined && s.lastSeq < seq).length;
    if (behind === 0) return { type: 'reached', all: true, behind: 0 };
    if (Date.now() > deadline) return { type: 'reached', all: false, behind };
    await new Promise((r) => setTimeout(r, 20));
  }
}

process.on('message', (raw) => {
  const m = raw as ToSubscribers;
  void (async () => {
    try {
      switch (m.type) {
        case 'clock':
          reply({ type: 'clock', parent_ms: m.parent_ms, child_ms: now() });
          break;
        case 'connect': {
          subscribers = Array.from(
            { length: m.count },
            () => new Subscriber(m.seq_max, m.measure_from_version),
          );
          // Connect in small batches so the server's accept queue is not the thing being measured.
          for (let i = 0; i < subscribers.length; i += 25) {
            await Promise.all(subscribers.slice(i, i + 25).map((s) => open(m.url, m.client, s)));
          }
          reply({ type: 'connected', count: subscribers.length });
          break;
        }
        case 'await_seq':
          reply(await awaitSeq(m.seq, m.timeout_ms));
          break;
        case 'report':
          reply(report(m));
          break;
        case 'disconnect':
          for (const s of subscribers) s.close();
          subscribers = [];
          reply({ type: 'disconnected' });
          break;
        case 'exit':
          process.exit(0);
      }
    } catch (error) {
      reply({ type: 'failed', message: (error as Error).stack ?? String(error) });
    }
  })();
});
