import { plainPackr } from '../util/msgpack.js';

/**
 * Frames of the node link: a 4-byte big-endian length, then a msgpack body
 * `{ from, msgs }`. A turn's messages to one peer are packed into frames of
 * about `frame_bytes_target` each, never one frame per turn whatever its size:
 * a receiver refuses frames over its `frame_bytes_max`, and snapshot chunks of
 * several groups catching up at once would otherwise exceed it.
 */
export interface Frame {
  readonly from: string;
  readonly msgs: unknown[];
}

export const FRAME_HEADER_BYTES = 4;

/** Fixed allowance per message for its fields besides binary payloads. */
const MESSAGE_OVERHEAD_BYTES = 96;

/**
 * A cheap upper estimate of a message's encoded size: its binary payloads
 * (entries' data, a snapshot chunk) plus a fixed overhead per message, entry
 * and heartbeat. Used to split frames and bound queues without encoding twice.
 */
export function estimateBytes(m: unknown): number {
  let n = MESSAGE_OVERHEAD_BYTES;
  if (typeof m !== 'object' || m === null) return n + (typeof m === 'string' ? m.length * 3 : 8);
  const o = m as { data?: unknown; entries?: unknown; beats?: unknown; replies?: unknown };
  if (o.data instanceof Uint8Array) n += o.data.length;
  if (Array.isArray(o.entries)) {
    for (const e of o.entries as { data?: unknown }[]) {
      n += 32 + (e.data instanceof Uint8Array ? e.data.length : 0);
    }
  }
  if (Array.isArray(o.beats)) n += o.beats.length * 32;
  if (Array.isArray(o.replies)) n += o.replies.length * 24;
  return n;
}

export class FrameEncoder {
  private readonly packr = plainPackr();

  constructor(
    private readonly from: string,
    private readonly targetBytes: number,
  ) {}

  /** Packs messages (with their estimated sizes) into frames of about the target size each. */
  encode(messages: readonly { readonly msg: unknown; readonly bytes: number }[]): Buffer[] {
    const frames: Buffer[] = [];
    let batch: unknown[] = [];
    let bytes = 0;
    for (const { msg, bytes: size } of messages) {
      if (batch.length > 0 && bytes + size > this.targetBytes) {
        frames.push(this.frame(batch));
        batch = [];
        bytes = 0;
      }
      batch.push(msg);
      bytes += size;
    }
    if (batch.length > 0) frames.push(this.frame(batch));
    return frames;
  }

  private frame(msgs: unknown[]): Buffer {
    const body = this.packr.pack({ from: this.from, msgs } satisfies Frame);
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
    out.writeUInt32BE(body.length, 0);
    body.copy(out, FRAME_HEADER_BYTES);
    return out;
  }
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/** Splits a byte stream into frames and decodes them, refusing oversize or malformed ones. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly packr = plainPackr();

  constructor(private readonly maxBytes: number) {}

  /** Feeds bytes; calls `onFrame` for each whole frame. Throws `FrameError` on a protocol violation. */
  push(chunk: Uint8Array, onFrame: (frame: Frame) => void): void {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(buf);
    this.buffered += buf.length;
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) return;
      const length = this.peek(FRAME_HEADER_BYTES).readUInt32BE(0);
      if (length > this.maxBytes) throw new FrameError(`frame of ${length} bytes exceeds ${this.maxBytes}`);
      if (this.buffered < FRAME_HEADER_BYTES + length) return;
      const body = this.take(FRAME_HEADER_BYTES + length).subarray(FRAME_HEADER_BYTES);
      let frame: unknown;
      try {
        frame = this.packr.unpack(body);
      } catch (error) {
        throw new FrameError(`undecodable frame: ${(error as Error).message}`);
      }
      const f = frame as Partial<Frame> | null;
      if (typeof f?.from !== 'string' || !Array.isArray(f.msgs)) throw new FrameError('malformed frame');
      onFrame(f as Frame);
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
