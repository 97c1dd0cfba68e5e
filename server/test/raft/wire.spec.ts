import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { WireMessage } from '../../src/raft/multi-raft.js';
import type { Message, MessageType } from '../../src/raft/types.js';
import { crc32 } from '../../src/util/checksum.js';
import { bytes, Harness } from './harness.js';

/** Unpacked binaries come back as Buffers; compare them as plain bytes. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

describe('wire format', () => {
  it('messages – every message type survives a msgpack round trip unchanged', () => {
    const h = new Harness(['a', 'b', 'c'], {
      config: { snapshot_chunk_bytes: 8, compaction_keep_entries: 0 },
    });
    h.elect('a');
    const a = h.node('a');
    h.isolate('c');
    for (let i = 0; i < 4; i++) a.propose(bytes(`e${i}`));
    h.tickAll(2);
    a.compact(a.applied, bytes('snapshot-data-0123456789'), crc32(bytes('snapshot-data-0123456789')));
    h.heal();
    h.tickAll(4);
    h.node('b').readIndex('read-1');
    h.tickAll(2);
    a.transferLeader('b');
    h.tickAll(6);
    h.node('c').campaign();
    h.tickAll(3);

    const all: Message[] = [];
    for (const id of h.ids) all.push(...h.sent(id));
    const types = new Set<MessageType>(all.map((m) => m.type));
    for (const t of [
      'app',
      'app_resp',
      'vote',
      'vote_resp',
      'pre_vote',
      'pre_vote_resp',
      'heartbeat',
      'heartbeat_resp',
      'snap',
      'snap_resp',
      'timeout_now',
      'read_index',
      'read_index_resp',
    ] as const) {
      expect(types, t).toContain(t);
    }
    const packr = new Packr({ useRecords: false });
    const batch: WireMessage = {
      type: 'heartbeat_batch',
      from: 'a',
      to: 'b',
      beats: [{ group: 3, term: 4, commit: 9, ctx: 0 }],
      replies: [{ group: 5, term: 4, ctx: 2 }],
    };
    for (const m of [...all, batch]) expect(normalize(packr.unpack(packr.pack(m)))).toEqual(normalize(m));
  });
});
