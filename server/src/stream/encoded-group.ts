import type { StreamEventFrame } from '@fastpaca/contract';

/** One event frame of a group: its type and its JSON text (a view into the group's wire bytes). */
export interface EncodedFrame {
  readonly type: StreamEventFrame['type'];
  readonly payload: Buffer;
}

/**
 * One applied version's frames, serialized and framed once and shared by
 * every subscriber: fanning a version out to N sockets is then N writes of
 * the same bytes, not N × frames encodings and writes.
 */
export interface EncodedGroup {
  readonly version: number;
  readonly frames: readonly EncodedFrame[];
  /** Every frame as a websocket text frame, back to back: what a subscriber with messages receives. */
  readonly wire: Buffer;
  /** The tail of `wire` without the `message` frames, which always come first in a version. */
  readonly wireWithoutMessages: Buffer;
  readonly framesWithoutMessages: number;
  readonly tombstoned: boolean;
}

/** Bytes of an unmasked websocket frame header for a payload of this length (RFC 6455 §5.2). */
function headerBytes(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(target: Buffer, at: number, length: number): number {
  // FIN and opcode 1 (text); server frames are never masked.
  target[at] = 0x81;
  if (length < 126) {
    target[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    target[at + 1] = 126;
    target.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  target[at + 1] = 127;
  target.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
  target.writeUInt32BE(length >>> 0, at + 6);
  return at + 10;
}

/**
 * One applied version as the replay buffer holds it. The frames are encoded
 * the first time a subscriber needs them, so appends to contexts nobody
 * watches never pay for JSON and framing; until then the group only holds
 * references to the event objects, which share the messages with the log.
 */
export class VersionGroup {
  readonly version: number;
  readonly frameCount: number;
  /**
   * Estimated bytes this version can hold: its messages (kept here even after
   * the log trims them) counted twice, for the objects and for their encoding
   * once a subscriber needs it, plus a fixed cost per frame.
   */
  readonly bytes: number;
  private events: readonly StreamEventFrame[] | undefined;
  private cached: EncodedGroup | undefined;

  constructor(events: readonly StreamEventFrame[]) {
    if (events.length === 0) throw new Error('VersionGroup: a version has at least one frame');
    this.version = events[0]!.version;
    this.frameCount = events.length;
    this.bytes = estimateBytes(events);
    this.events = events;
  }

  get encoded(): EncodedGroup {
    if (!this.cached) {
      this.cached = encodeGroup(this.events!);
      this.events = undefined;
    }
    return this.cached;
  }
}

const frame_bytes = 128;

function estimateBytes(events: readonly StreamEventFrame[]): number {
  let bytes = 0;
  for (const e of events) {
    bytes += frame_bytes;
    if (e.type !== 'message') continue;
    const m = e.message;
    let content = m.role.length + m.inserted_at.length;
    // Text is the bulk of most messages and costs nothing to measure; other parts are measured as JSON.
    for (const part of m.parts)
      content +=
        part.type === 'text' && typeof part.text === 'string'
          ? part.text.length
          : JSON.stringify(part).length;
    for (const _ in m.metadata) {
      content += JSON.stringify(m.metadata).length;
      break;
    }
    bytes += 2 * content;
  }
  return bytes;
}

/** Serializes and frames the events of one applied command; they share one version. */
export function encodeGroup(events: readonly StreamEventFrame[]): EncodedGroup {
  if (events.length === 0) throw new Error('encodeGroup: a version has at least one frame');
  const version = events[0]!.version;
  const texts = events.map((e) => {
    if (e.version !== version)
      throw new Error(`encodeGroup: versions ${version} and ${e.version} in one group`);
    return JSON.stringify(e);
  });
  const lengths = texts.map((t) => Buffer.byteLength(t));
  const total = lengths.reduce((n, length) => n + headerBytes(length) + length, 0);
  // Not from the shared pool: the replay ring keeps groups for long, and a pooled
  // slice would keep its whole 8 KiB slab (and whatever else lives in it) alive.
  const wire = Buffer.allocUnsafeSlow(total);
  const frames: EncodedFrame[] = [];
  let at = 0;
  let messages = 0;
  let messagesEnd = 0;
  for (let i = 0; i < events.length; i++) {
    const type = events[i]!.type;
    if (type === 'message') {
      if (messages !== i) throw new Error('encodeGroup: message frames must come first in a version');
      messages++;
    }
    const start = writeHeader(wire, at, lengths[i]!);
    wire.write(texts[i]!, start, 'utf8');
    at = start + lengths[i]!;
    if (type === 'message') messagesEnd = at;
    frames.push({ type, payload: wire.subarray(start, at) });
  }
  return {
    version,
    frames,
    wire,
    wireWithoutMessages: wire.subarray(messagesEnd),
    framesWithoutMessages: events.length - messages,
    tombstoned: events.some((e) => e.type === 'tombstoned'),
  };
}
