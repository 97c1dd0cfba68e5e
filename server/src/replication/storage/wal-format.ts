import { crc32 } from '../../util/checksum.js';
import { plainPackr } from '../../util/msgpack.js';

/**
 * The on-disk format of the write-ahead log.
 *
 * A segment (`0000000001.wal`) starts with an 8-byte magic and holds frames:
 *
 *   [u32 body length][u32 crc32(body)][u32 crc32(the 8 bytes before)][msgpack body]
 *
 * little-endian. The header checks itself, so a damaged length is told apart
 * from a write that stopped short: after a crash only the last write can be
 * torn, and a torn write is a prefix of its frame, so the file ends inside a
 * header or inside a body whose valid header says it is longer. Everything
 * else that does not check out (a header or body whose checksum fails with
 * all its bytes present, a frame that does not decode) is corruption.
 *
 * Segments written before the magic existed ("version 1") have an 8-byte
 * header without its own checksum; they are still read.
 */
export const SEGMENT_MAGIC = Buffer.from([0x46, 0x50, 0x57, 0x41, 0x4c, 0x00, 0x02, 0x0a]); // "FPWAL\0" 2 "\n"
const HEADER_V2 = 12;
const HEADER_V1 = 8;

export const REC_ENTRIES = 1;
export const REC_HARD_STATE = 2;
export const REC_SNAPSHOT = 3;
export const REC_REMOVE = 4;
export const REC_REPLICA = 5;
export const MODE_INSTALL = 0;
export const MODE_COMPACT = 1;

export type EntryTuple = [term: number, kind: 0 | 1, data: Uint8Array];
export type EntriesRecord = [typeof REC_ENTRIES, group: number, first: number, entries: EntryTuple[]];
export type HardStateRecord = [
  typeof REC_HARD_STATE,
  group: number,
  term: number,
  vote: string | null,
  commit: number,
];
/** `checksum` and `size` are absent in version-1 segments. */
export type SnapshotRecord = [
  typeof REC_SNAPSHOT,
  group: number,
  mode: 0 | 1,
  index: number,
  term: number,
  voters: string[],
  learners: string[],
  file: string,
  checksum?: number,
  size?: number,
];
/** `term` (the tombstone) is absent in version-1 segments. */
export type RemoveRecord = [typeof REC_REMOVE, group: number, term?: number];
export type ReplicaRecord = [typeof REC_REPLICA, group: number, replica: string];
export type WalRecord = EntriesRecord | HardStateRecord | SnapshotRecord | RemoveRecord | ReplicaRecord;

const packr = plainPackr();

/** One batch of records as one frame, so a batch is replayed whole or (torn) not at all. */
export function encodeFrame(records: readonly WalRecord[]): Buffer {
  const body = packr.pack(records);
  const out = Buffer.allocUnsafe(HEADER_V2 + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  out.writeUInt32LE(crc32(out.subarray(0, 8)), 8);
  body.copy(out, HEADER_V2);
  return out;
}

export interface ScannedFrame {
  readonly at: number;
  readonly records: WalRecord[];
}

/** How a segment ends: cleanly, with a torn last write, or with damage at `at`. */
export type SegmentEnd =
  | { readonly kind: 'clean' }
  | { readonly kind: 'torn' | 'corrupt'; readonly at: number; readonly reason: string };

export interface ScannedSegment {
  readonly version: 1 | 2;
  readonly frames: ScannedFrame[];
  readonly end: SegmentEnd;
  /** Bytes up to the end of the last whole frame. */
  readonly validBytes: number;
}

/** Reads every frame of a segment until its end or the first frame that does not check out. */
export function scanSegment(buf: Uint8Array): ScannedSegment {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = startsWithMagic(b);
  if (magic === 'damaged') {
    return {
      version: 2,
      frames: [],
      end: { kind: 'corrupt', at: 0, reason: 'damaged header' },
      validBytes: 0,
    };
  }
  if (magic === 'short') {
    return { version: 2, frames: [], end: { kind: 'torn', at: 0, reason: 'short header' }, validBytes: 0 };
  }
  const version = magic === 'yes' ? 2 : 1;
  const frames: ScannedFrame[] = [];
  let at = version === 2 ? SEGMENT_MAGIC.length : 0;
  while (at < b.length) {
    const read = version === 2 ? readFrameV2(b, at) : readFrameV1(b, at);
    if (read.kind !== 'frame') {
      // Some file systems extend a file before its data lands: a crash then leaves zeros, not a prefix.
      const kind = read.kind === 'corrupt' && allZero(b, at) ? 'torn' : read.kind;
      return { version, frames, end: { kind, at, reason: read.reason }, validBytes: at };
    }
    frames.push({ at, records: read.records });
    at = read.next;
  }
  return { version, frames, end: { kind: 'clean' }, validBytes: at };
}

type FrameRead =
  | { kind: 'frame'; records: WalRecord[]; next: number }
  | { kind: 'torn' | 'corrupt'; reason: string };

function readFrameV2(b: Buffer, at: number): FrameRead {
  if (at + HEADER_V2 > b.length) return { kind: 'torn', reason: 'short header' };
  if (crc32(b.subarray(at, at + 8)) !== b.readUInt32LE(at + 8)) {
    return { kind: 'corrupt', reason: 'header checksum mismatch' };
  }
  const length = b.readUInt32LE(at);
  const end = at + HEADER_V2 + length;
  if (end > b.length) return { kind: 'torn', reason: 'short frame' };
  return decodeBody(b.subarray(at + HEADER_V2, end), b.readUInt32LE(at + 4), end);
}

function readFrameV1(b: Buffer, at: number): FrameRead {
  if (at + HEADER_V1 > b.length) return { kind: 'torn', reason: 'short header' };
  const end = at + HEADER_V1 + b.readUInt32LE(at);
  if (end > b.length) return { kind: 'torn', reason: 'short frame' };
  return decodeBody(b.subarray(at + HEADER_V1, end), b.readUInt32LE(at + 4), end);
}

function allZero(b: Buffer, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function decodeBody(body: Buffer, crc: number, next: number): FrameRead {
  if (crc32(body) !== crc) return { kind: 'corrupt', reason: 'checksum mismatch' };
  let records: unknown;
  try {
    records = packr.unpack(body);
  } catch {
    return { kind: 'corrupt', reason: 'undecodable frame' };
  }
  if (!Array.isArray(records) || !records.every(isRecord))
    return { kind: 'corrupt', reason: 'malformed frame' };
  return { kind: 'frame', records: records as WalRecord[], next };
}

function isRecord(r: unknown): boolean {
  return Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number';
}

/**
 * 'yes' for a version-2 segment, 'no' for a version-1 one (which starts with a
 * frame), 'short' for a file that ends inside the magic (a segment whose
 * creation was torn), 'damaged' for a magic with a few flipped bits: such a
 * file must not be mistaken for version 1, whose rules are laxer.
 */
function startsWithMagic(b: Buffer): 'yes' | 'no' | 'short' | 'damaged' {
  if (b.length < SEGMENT_MAGIC.length) {
    return SEGMENT_MAGIC.subarray(0, b.length).equals(b) ? 'short' : b.length === 0 ? 'short' : 'no';
  }
  let flipped = 0;
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) {
    let x = b[i]! ^ SEGMENT_MAGIC[i]!;
    while (x !== 0) {
      flipped += x & 1;
      x >>>= 1;
    }
  }
  if (flipped === 0) return 'yes';
  return flipped <= 8 ? 'damaged' : 'no';
}
