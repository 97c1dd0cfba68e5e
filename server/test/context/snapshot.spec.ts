import { limits } from '@fastpaca/contract';
import fc from 'fast-check';
import { Packr, pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ContextGroup, SnapshotError, snapshot_format_version } from '../../src/context/index.js';
import { concretize, scriptArb } from './arbitraries.js';
import { append, compact, msg, must, put } from './fixtures.js';

function sampleGroup(): ContextGroup {
  const group = new ContextGroup();
  must(group.apply(put('a', { token_budget: 100, policy: { strategy: 'skip_parts' } })));
  must(group.apply(put('b', { token_budget: 1000, metadata: { owner: 'x' } })));
  for (let i = 0; i < 6; i++) {
    must(
      group.apply(
        append(
          'a',
          [
            msg(20, {
              parts: [
                { type: 'reasoning', text: 'r' },
                { type: 'text', text: `t${i}` },
              ],
              part_tokens: [10, 10],
            }),
          ],
          {
            idempotency_key: `k${i}`,
          },
        ),
      ),
    );
  }
  must(group.apply(append('b', [msg(5), msg(6)])));
  must(group.apply(compact('b', [msg(3, { role: 'system' })])));
  must(group.apply(append('b', [msg(7)])));
  must(group.apply({ type: 'ack_archived', id: 'a', upto_seq: 5, tail_keep: 1 }));
  return group;
}

describe('snapshot – round trip', () => {
  it('restores the same reads and re-encodes to the same bytes', () => {
    const group = sampleGroup();
    const bytes = group.snapshot();
    const restored = ContextGroup.restore(bytes);
    expect(Buffer.from(restored.snapshot()).equals(Buffer.from(bytes))).toBe(true);
    for (const id of ['a', 'b']) {
      expect(restored.getContext(id)).toEqual(group.getContext(id));
      expect(restored.window(id)).toEqual(group.window(id));
      expect(restored.tail(id, 0, 100)).toEqual(group.tail(id, 0, 100));
    }
    // the window still holds stripped messages the retained tail no longer has
    expect(restored.archiveState('a')).toMatchObject({ retained: 1, archived_seq: 5 });
    expect(restored.window('a')!.messages.length).toBeGreaterThan(1);
    expect(must(restored.apply(append('a', [msg(1)], { idempotency_key: 'k2' }))).replayed).toBe(true);
  });

  it('starts with magic bytes and the format version', () => {
    const bytes = new ContextGroup().snapshot();
    expect([...bytes.subarray(0, 5)]).toEqual([0x46, 0x50, 0x43, 0x47, snapshot_format_version]);
    expect(ContextGroup.restore(bytes).size).toBe(0);
  });

  it('writes a message held by both the log and the window once', () => {
    const windowed = new ContextGroup();
    const compacted = new ContextGroup();
    for (const group of [windowed, compacted]) {
      must(group.apply(put('a', { token_budget: 100_000_000 })));
      for (let i = 0; i < 200; i++) must(group.apply(append('a', [msg(1, { text: 'x'.repeat(300) })])));
    }
    must(compacted.apply(compact('a', [])));
    const withWindow = windowed.snapshot().length;
    const withoutWindow = compacted.snapshot().length;
    expect(withWindow).toBeLessThan(withoutWindow * 1.05);
  });
});

/** A group with one context of `n` retained messages. */
function groupWith(n: number): ContextGroup {
  const group = new ContextGroup();
  must(
    group.apply(
      put('big', { token_budget: 100_000_000, policy: { strategy: 'last_n', config: { limit: 50 } } }),
    ),
  );
  for (let i = 0; i < n; i++) must(group.apply(append('big', [msg(3, { text: `message ${i}` })])));
  return group;
}

/** Steps an encoder with a deadline already past, so every step does the least it can. */
function stepsToFinish(encoder: { step(deadline: number, now: () => number): Uint8Array | undefined }): {
  steps: number;
  bytes: Uint8Array;
} {
  for (let steps = 1; ; steps++) {
    const bytes = encoder.step(0, () => 1);
    if (bytes) return { steps, bytes };
  }
}

describe('snapshot – encoded a slice at a time', () => {
  it('writes canonical msgpack: each record is byte for byte what packing it whole gives', () => {
    // 15, 16, 65,535 and 65,536 elements cross msgpack's array header sizes.
    for (const n of [0, 15, 16, 300, 65_535, 65_536]) {
      const bytes = groupWith(n).snapshot();
      const records = unpack(bytes.subarray(5)) as unknown[][];
      expect(records[0]![11]).toHaveLength(n);
      const whole = new Packr({ useRecords: false, variableMapSize: true });
      const reference = Buffer.concat([
        Buffer.from(bytes.subarray(0, 10)),
        ...records.map((r) => Buffer.from(whole.pack(r))),
      ]);
      expect(Buffer.from(bytes).equals(reference), `${n} messages`).toBe(true);
    }
  });

  it('returns between slices, so a large group never holds the event loop for the whole encoding', () => {
    expect(stepsToFinish(groupWith(10_000).snapshotEncoder()).steps).toBeGreaterThan(10_000 / 256);
    expect(stepsToFinish(new ContextGroup().snapshotEncoder()).steps).toBe(1);
  });

  it('encodes the state as it was when the encoder was created, whatever is applied meanwhile', () => {
    fc.assert(
      fc.property(scriptArb, fc.integer({ min: 0, max: 60 }), (script, cut) => {
        const group = new ContextGroup();
        const apply = (generated: (typeof script)[number]) => group.apply(concretize(generated, group));
        for (const generated of script.slice(0, cut)) apply(generated);
        const expected = group.snapshot();
        const encoder = group.snapshotEncoder();
        let bytes: Uint8Array | undefined;
        for (const generated of script.slice(cut)) {
          apply(generated);
          bytes ??= encoder.step(0, () => 1);
        }
        bytes ??= stepsToFinish(encoder).bytes;
        expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
      }),
      { seed: 4242, numRuns: 300 },
    );
  });

  it('captures a large context whose retained tail is trimmed while it is being encoded', () => {
    const group = groupWith(2_000);
    const expected = group.snapshot();
    const encoder = group.snapshotEncoder();
    expect(encoder.step(0, () => 1)).toBeUndefined();
    must(group.apply({ type: 'ack_archived', id: 'big', upto_seq: 1_990, tail_keep: 0 }));
    must(group.apply(append('big', [msg(3, { text: 'later' })])));
    must(group.apply({ type: 'patch_metadata', id: 'big', at: 10, metadata: { changed: true } }));
    expect(Buffer.from(stepsToFinish(encoder).bytes).equals(Buffer.from(expected))).toBe(true);
    expect(ContextGroup.restore(expected).archiveState('big')).toMatchObject({ retained: 2_000 });
  });
});

describe('snapshot – rejects corrupt input with a clear error', () => {
  const good = sampleGroup().snapshot();
  const withHeader = (body: Uint8Array) => {
    const bytes = new Uint8Array(5 + body.length);
    bytes.set(good.subarray(0, 5));
    bytes.set(body, 5);
    return bytes;
  };
  /** The body layout: msgpack array32 header, then one packed record per context. */
  const asBody = (records: unknown[]) => {
    const packed = records.map((r) => pack(r));
    const body = new Uint8Array(5 + packed.reduce((n, p) => n + p.length, 0));
    body[0] = 0xdd;
    new DataView(body.buffer).setUint32(1, records.length);
    let offset = 5;
    for (const p of packed) {
      body.set(p, offset);
      offset += p.length;
    }
    return body;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty input', new Uint8Array(0), /bad magic/],
    ['foreign bytes', new TextEncoder().encode('{"json":true}'), /bad magic/],
    [
      'an unknown format version',
      Uint8Array.from([...good.subarray(0, 4), 99, ...good.subarray(5)]),
      /unsupported snapshot format version 99/,
    ],
    ['a truncated body', good.subarray(0, Math.floor(good.length / 2)), /corrupt/],
    ['a body of the wrong type', withHeader(pack({ not: 'a list' })), /corrupt: body is not a list/],
    ['a context record of the wrong shape', withHeader(asBody([[1, 2, 3]])), /corrupt: context record/],
    [
      'fewer contexts than announced',
      withHeader(asBody([]).fill(0xff, 1, 5)),
      /announces 4294967295 contexts/,
    ],
    ['trailing garbage after the records', Uint8Array.from([...good, 0xc1]), /corrupt/],
  ];
  for (const [name, bytes, message] of cases) {
    it(`restore – rejects ${name}`, () => {
      expect(() => ContextGroup.restore(bytes)).toThrow(SnapshotError);
      expect(() => ContextGroup.restore(bytes)).toThrow(message);
    });
  }

  it('restore – reads a format 2 snapshot, whose keys carry no first seq', () => {
    const records = unpack(good.subarray(5)) as unknown[][];
    for (const record of records) {
      const keys = record[14] as unknown[];
      record[14] = keys.filter((_, i) => i % 6 < 5);
    }
    const bytes = withHeader(asBody(records));
    bytes[4] = 2;
    const restored = ContextGroup.restore(bytes);
    expect(restored.getContext('a')).toEqual(sampleGroup().getContext('a'));
    const replay = must(restored.apply(append('a', [msg(1)], { idempotency_key: 'k2' })));
    expect(replay).toMatchObject({ replayed: true, first_seq: replay.seq });
  });

  it('restore – reads a format 1 snapshot, whose keys carry no time, as keys that are already old', () => {
    const records = unpack(good.subarray(5)) as unknown[][];
    for (const record of records) {
      const keys = record[14] as unknown[];
      record[14] = keys.filter((_, i) => i % 6 < 4);
    }
    const v1 = asBody(records);
    const bytes = withHeader(v1);
    bytes[4] = 1;
    const restored = ContextGroup.restore(bytes);
    expect(restored.getContext('a')).toEqual(sampleGroup().getContext('a'));
    expect(must(restored.apply(append('a', [msg(1)], { idempotency_key: 'k2' }))).replayed).toBe(true);
    // A format 3 body under the version 1 header is corrupt, not silently misread.
    const mislabelled = withHeader(asBody(unpack(good.subarray(5)) as unknown[][]));
    mislabelled[4] = 1;
    expect(() => ContextGroup.restore(mislabelled)).toThrow(/bad (idempotency keys|key)/);
  });

  it('restore – keeps the time of each key, so a restored replica forgets the same keys as one that never restarted', () => {
    const build = () => {
      const group = new ContextGroup();
      must(group.apply(put('a', { token_budget: 100_000_000 })));
      for (let i = 0; i < 1_500; i++)
        must(group.apply(append('a', [msg(1)], { idempotency_key: `k${i}`, at: i })));
      return group;
    };
    const live = build();
    const restored = ContextGroup.restore(build().snapshot());
    const later = append('a', [msg(1)], {
      idempotency_key: 'new',
      at: 200 + limits.idempotency_retention_ms,
    });
    must(live.apply(later));
    must(restored.apply(later));
    expect(Buffer.from(restored.snapshot()).equals(Buffer.from(live.snapshot()))).toBe(true);
    // keys k0..k199 are older than the retention and beyond the newest 1,000: forgotten
    expect(must(restored.apply(append('a', [msg(1)], { idempotency_key: 'k199', at: 0 }))).replayed).toBe(
      false,
    );
    expect(must(restored.apply(append('a', [msg(1)], { idempotency_key: 'k200', at: 0 }))).replayed).toBe(
      true,
    );
  });

  it('restore – rejects a window entry that points at a message not retained', () => {
    const group = new ContextGroup();
    must(group.apply(put('a', { token_budget: 1000 })));
    must(group.apply(append('a', [msg(1)])));
    const body = ContextGroup.restore(group.snapshot()).snapshot().subarray(5);
    // Re-encode the record with the retained log emptied but the window still referring to seq 1.
    const records = unpack(body) as unknown[][];
    records[0]![11] = [];
    expect(() => ContextGroup.restore(withHeader(asBody(records)))).toThrow(/not retained/);
  });
});
