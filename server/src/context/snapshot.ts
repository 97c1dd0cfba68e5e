import type { Message } from '@fastpaca/contract';
import { Packr, REUSE_BUFFER_MODE, Unpackr } from 'msgpackr';
import type { Contexts } from './apply-config.js';
import type { ContextState } from './context-state.js';
import { IdempotencyCache } from './idempotency-cache.js';
import { isPlainObject } from './json-equal.js';
import { engineLimits, idempotencyRetention } from './limits.js';
import { normalizePolicy } from './normalize-policy.js';
import { RetainedLog } from './retained-log.js';
import { WindowBuffer } from './window-buffer.js';
import { liveEntry, type WindowEntry, windowEntry } from './window-entry.js';

/*
 * Snapshot layout: 4 magic bytes, 1 format-version byte, then one msgpack
 * array (always with a 32-bit length) holding a record per context in
 * insertion order. Records are positional
 * arrays rather than maps to keep a snapshot of millions of messages compact.
 * Retained messages omit their seq (the run is dense), and a window entry that
 * is still the log's own message is stored as its seq, so a message held by
 * both the log and the window is written once.
 */

const magic = [0x46, 0x50, 0x43, 0x47] as const; // "FPCG"
/**
 * Version 3 stores each idempotency key's command time and first seq.
 * Earlier versions are still read: version 2 keys have a time but no first
 * seq, version 1 keys neither (they count as old); both only ever recorded
 * one-message appends, so the first seq is the seq.
 */
export const snapshot_format_version = 3;
const readable_format_versions: readonly number[] = [1, 2, 3];
/** Fields per idempotency key in each format version. */
const key_fields: Record<number, number> = { 1: 4, 2: 5, 3: 6 };
const header_bytes = magic.length + 1;
const array32_header_bytes = 5;
const initial_capacity_bytes = 64 * 1024;

// Records off: the encoding must depend on the state alone, never on what a
// packer saw before, so two replicas produce the same bytes.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A snapshot that cannot be decoded: corrupt, truncated or from an unknown format version. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

type MessageTuple = [
  role: string,
  parts: unknown[],
  metadata: object,
  token_count: number,
  inserted_at: string,
];
type FullWindowTuple = [
  seq: number | null,
  role: string,
  parts: unknown[],
  metadata: object,
  token_count: number,
  inserted_at: string,
  part_tokens: readonly number[] | null,
  tool_ids: readonly string[],
];
type WindowRecord = number | [seq: number, part_tokens: readonly number[]] | FullWindowTuple;

/**
 * A snapshot being encoded a slice at a time. The state is captured when the
 * encoder is created (O(contexts + retained messages) references, no
 * encoding), and the encoding happens in `step` calls, each returning within
 * about its time budget. Messages and window entries are never mutated once
 * stored, so later commands cannot change what was captured: the bytes are
 * exactly those a single uninterrupted encoding at capture time gives.
 */
export interface SnapshotEncoder {
  /** Encodes until done or until `now()` reaches `deadline`; the bytes once done. */
  step(deadline: number, now: () => number): Uint8Array | undefined;
}

/** Retained messages packed per call; small enough that a step overshoots its deadline by well under a millisecond. */
const messages_per_chunk = 256;

/** A context record in field order: the scalar fields, the retained log, the window, then summary and idempotency keys. */
interface CapturedContext {
  head: unknown[];
  retained: readonly Message[];
  window: WindowRecord[];
  tail: unknown[];
}

function captureContext(state: ContextState): CapturedContext {
  const idempotency: (string | number)[] = [];
  for (const [key, record] of state.idempotency.entries()) {
    idempotency.push(key, record.seq, record.version, record.token_estimate, record.at, record.first_seq);
  }
  return {
    head: [
      state.id,
      state.token_budget,
      state.trigger_ratio,
      state.policy,
      state.metadata,
      state.status,
      state.version,
      state.created_at,
      state.updated_at,
      state.archived_seq,
      state.log.last_seq,
    ],
    retained: state.log.toArray(),
    window: state.window.toArray().map((entry) => encodeWindowEntry(state, entry)),
    tail: [
      state.summary_range === null ? null : [state.summary_range.from_seq, state.summary_range.to_seq],
      idempotency,
    ],
  };
}

const record_fields = 15;

/**
 * Captures `contexts` now and encodes them as `step` is called. Each context
 * record is written field by field into one output buffer sized from
 * `sizeHint` (the previous snapshot's size), so neither a huge context nor a
 * growing msgpack buffer is ever packed in one go; the hint only affects
 * speed, never the bytes. The body is one msgpack array of records.
 */
export function snapshotEncoder(contexts: Contexts, sizeHint = 0): SnapshotEncoder {
  const captured = [...contexts.values()].map(captureContext);
  const steps = encodeSteps(captured, sizeHint);
  let done: Uint8Array | undefined;
  return {
    step(deadline, now) {
      if (done) return done;
      for (;;) {
        const next = steps.next();
        if (next.done) {
          done = next.value;
          return done;
        }
        if (now() >= deadline) return undefined;
      }
    },
  };
}

/** Yields between chunks of work; returns the bytes. */
function* encodeSteps(captured: CapturedContext[], sizeHint: number): Generator<void, Uint8Array> {
  const weight = (c: CapturedContext) => c.retained.length + c.window.length + 1;
  const sink = new ByteSink(Math.max(initial_capacity_bytes, Math.ceil(sizeHint * 1.125)));
  const header = new Uint8Array(header_bytes + array32_header_bytes);
  header.set(magic, 0);
  header[magic.length] = snapshot_format_version;
  // msgpack array32: 0xdd and a big-endian element count.
  header[header_bytes] = 0xdd;
  new DataView(header.buffer).setUint32(header_bytes + 1, captured.length);
  sink.write(header);
  let extrapolated = sizeHint > 0;
  for (const context of captured) {
    const start = sink.size;
    sink.write(arrayHeader(record_fields));
    for (const field of context.head) sink.write(pack(field));
    const retained = context.retained;
    sink.write(arrayHeader(retained.length));
    for (let at = 0; at < retained.length; at += messages_per_chunk) {
      const chunk = retained
        .slice(at, at + messages_per_chunk)
        .map((m): MessageTuple => [m.role, m.parts, m.metadata, m.token_count, m.inserted_at]);
      const packed = pack(chunk);
      // Drop the chunk's own array header: its elements continue the retained array.
      sink.write(packed.subarray(arrayHeader(chunk.length).length));
      if (!extrapolated && at === 0 && retained.length > messages_per_chunk) {
        // Without a hint, the first large context predicts the rest.
        extrapolated = true;
        const perUnit = (sink.size - start) / chunk.length;
        sink.reserve(Math.ceil(perUnit * captured.reduce((n, c) => n + weight(c), 0) * 1.125));
      }
      yield;
    }
    sink.write(pack(context.window));
    for (const field of context.tail) sink.write(pack(field));
    yield;
  }
  return sink.bytes();
}

/** The packer's reused buffer holds the result until the next call, which is enough for one `write`. */
function pack(value: unknown): Uint8Array {
  // In this mode msgpackr returns its own buffer with the written range in `start`/`end`.
  const packed = packr.pack(value, REUSE_BUFFER_MODE) as unknown as Uint8Array & {
    start: number;
    end: number;
  };
  return packed.subarray(packed.start, packed.end);
}

/** The shortest msgpack array header for `n` elements, as msgpackr writes it. */
function arrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n);
  if (n < 0x10000) return Uint8Array.of(0xdc, n >> 8, n & 0xff);
  return Uint8Array.of(0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** An append-only byte buffer that grows by half when full. */
class ByteSink {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  write(chunk: Uint8Array): void {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) this.reserve(Math.max(needed, Math.ceil(this.buffer.length * 1.5)));
    this.buffer.set(chunk, this.length);
    this.length = needed;
  }

  reserve(capacity: number): void {
    if (capacity <= this.buffer.length) return;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

function encodeWindowEntry(state: ContextState, entry: WindowEntry): WindowRecord {
  const m = entry.message;
  if (m.seq !== null && state.log.at(m.seq) === m) {
    return entry.part_tokens === null ? m.seq : [m.seq, entry.part_tokens];
  }
  return [
    m.seq,
    m.role,
    m.parts,
    m.metadata,
    m.token_count,
    m.inserted_at,
    entry.part_tokens,
    entry.tool_ids,
  ];
}

export function decodeSnapshot(bytes: Uint8Array): Contexts {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError('snapshot must be bytes');
  if (bytes.length < header_bytes || magic.some((b, i) => bytes[i] !== b)) {
    throw new SnapshotError('not a context group snapshot (bad magic bytes)');
  }
  const version = bytes[magic.length];
  if (version === undefined || !readable_format_versions.includes(version)) {
    throw new SnapshotError(
      `unsupported snapshot format version ${version} (this build reads versions ${readable_format_versions.join(', ')})`,
    );
  }
  const body = bytes.subarray(header_bytes);
  if (body.length < array32_header_bytes || body[0] !== 0xdd) {
    throw new SnapshotError('snapshot is corrupt: body is not a list of contexts');
  }
  const count = new DataView(body.buffer, body.byteOffset).getUint32(1);
  const records = body.subarray(array32_header_bytes);
  const contexts: Contexts = new Map();
  // Records are decoded one at a time so each context's intermediate arrays
  // die young instead of the whole snapshot being materialised twice.
  try {
    if (records.length > 0) {
      unpackr.unpackMultiple(records, (record: unknown) => {
        check(contexts.size < count, 'more contexts than the header announces');
        const state = decodeContext(record, version);
        check(!contexts.has(state.id), `context ${state.id} appears twice`);
        contexts.set(state.id, state);
      });
    }
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    throw new SnapshotError(`snapshot is corrupt: ${(error as Error).message}`);
  }
  check(contexts.size === count, `header announces ${count} contexts, body holds ${contexts.size}`);
  return contexts;
}

function decodeContext(record: unknown, formatVersion: number): ContextState {
  check(Array.isArray(record) && record.length === 15, 'context record has the wrong shape');
  const [
    id,
    tokenBudget,
    triggerRatio,
    policyInput,
    metadata,
    status,
    version,
    createdAt,
    updatedAt,
    archivedSeq,
    lastSeq,
    retained,
    window,
    summaryRange,
    idempotency,
  ] = record as unknown[];
  check(typeof id === 'string', 'context id is not a string');
  const where = `context ${id}`;
  check(isCount(tokenBudget) && tokenBudget > 0, `${where}: bad token_budget`);
  check(
    typeof triggerRatio === 'number' && triggerRatio > 0 && triggerRatio <= 1,
    `${where}: bad trigger_ratio`,
  );
  const policy = normalizePolicy(policyInput);
  check(policy.ok, `${where}: bad policy`);
  check(isPlainObject(metadata), `${where}: bad metadata`);
  check(status === 'active' || status === 'tombstoned', `${where}: bad status`);
  check(isCount(version), `${where}: bad version`);
  check(typeof createdAt === 'string' && typeof updatedAt === 'string', `${where}: bad timestamps`);
  check(isCount(lastSeq) && isCount(archivedSeq) && archivedSeq <= lastSeq, `${where}: bad seqs`);
  check(Array.isArray(retained) && retained.length <= lastSeq, `${where}: bad retained log`);
  const first = lastSeq - retained.length + 1;
  const messages = retained.map((tuple, i) => decodeMessage(tuple, first + i, where));
  const log = RetainedLog.restore(lastSeq, messages);

  check(summaryRange === null || isRange(summaryRange), `${where}: bad summary range`);
  check(Array.isArray(window), `${where}: bad window`);
  const entries = window.map((entry) => decodeWindowEntry(entry, log, where));
  const hasSummary = entries.some((entry) => entry.message.seq === null);
  check(hasSummary === (summaryRange !== null), `${where}: summary range does not match the window`);

  const stride = key_fields[formatVersion]!;
  check(Array.isArray(idempotency) && idempotency.length % stride === 0, `${where}: bad idempotency keys`);
  check(
    idempotency.length / stride <= engineLimits.idempotency_keys_max,
    `${where}: too many idempotency keys`,
  );
  const cache = new IdempotencyCache(idempotencyRetention);
  for (let i = 0; i < idempotency.length; i += stride) {
    // Older formats kept no first seq (every append was one message), format 1 no time (its keys count as old).
    const [key, seq, keyVersion, estimate, at = 0, firstSeq = seq] = idempotency.slice(i, i + stride);
    check(
      typeof key === 'string' &&
        isCount(seq) &&
        isCount(keyVersion) &&
        isCount(estimate) &&
        isCount(at) &&
        isCount(firstSeq) &&
        (firstSeq as number) <= (seq as number) &&
        cache.get(key as string) === undefined,
      `${where}: bad key`,
    );
    cache.restore(key, {
      first_seq: firstSeq as number,
      seq,
      version: keyVersion,
      token_estimate: estimate,
      at,
    });
  }

  return {
    id,
    token_budget: tokenBudget,
    trigger_ratio: triggerRatio,
    policy: policy.policy,
    metadata,
    status,
    version,
    created_at: createdAt,
    updated_at: updatedAt,
    archived_seq: archivedSeq,
    log,
    window: WindowBuffer.of(entries),
    used_tokens: entries.reduce((sum, entry) => sum + entry.message.token_count, 0),
    summary_range: summaryRange === null ? null : { from_seq: summaryRange[0], to_seq: summaryRange[1] },
    idempotency: cache,
  };
}

function decodeMessage(tuple: unknown, seq: number, where: string): Message {
  check(Array.isArray(tuple) && tuple.length === 5, `${where}: message ${seq} has the wrong shape`);
  const [role, parts, metadata, tokenCount, insertedAt] = tuple as unknown[];
  check(
    typeof role === 'string' &&
      Array.isArray(parts) &&
      isPlainObject(metadata) &&
      isCount(tokenCount) &&
      typeof insertedAt === 'string',
    `${where}: message ${seq} is malformed`,
  );
  return {
    seq,
    role,
    parts: parts as Message['parts'],
    metadata,
    token_count: tokenCount,
    inserted_at: insertedAt,
  };
}

function decodeWindowEntry(record: unknown, log: RetainedLog, where: string): WindowEntry {
  if (typeof record === 'number' || (Array.isArray(record) && record.length === 2)) {
    const [seq, partTokens] = typeof record === 'number' ? [record, null] : (record as unknown[]);
    const message = typeof seq === 'number' ? log.at(seq) : undefined;
    check(message !== undefined, `${where}: window refers to a message that is not retained`);
    check(partTokens === null || isCountList(partTokens, message.parts.length), `${where}: bad part_tokens`);
    return liveEntry(message, partTokens);
  }
  check(Array.isArray(record) && record.length === 8, `${where}: window entry has the wrong shape`);
  const [seq, role, parts, metadata, tokenCount, insertedAt, partTokens, toolIds] = record as unknown[];
  check(
    (seq === null || (isCount(seq) && seq > 0)) &&
      typeof role === 'string' &&
      Array.isArray(parts) &&
      isPlainObject(metadata) &&
      isCount(tokenCount) &&
      typeof insertedAt === 'string' &&
      (partTokens === null || isCountList(partTokens, parts.length)) &&
      Array.isArray(toolIds) &&
      toolIds.every((id) => typeof id === 'string'),
    `${where}: window entry is malformed`,
  );
  return windowEntry(
    {
      seq,
      role,
      parts: parts as Message['parts'],
      metadata,
      token_count: tokenCount,
      inserted_at: insertedAt,
    },
    partTokens,
    toolIds as string[],
  );
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isCountList(value: unknown, length: number): value is number[] {
  return Array.isArray(value) && value.length === length && value.every(isCount);
}

function isRange(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    isCount(value[0]) &&
    isCount(value[1]) &&
    value[0] <= value[1]
  );
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new SnapshotError(`snapshot is corrupt: ${message}`);
}
