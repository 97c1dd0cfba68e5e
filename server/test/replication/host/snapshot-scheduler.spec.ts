import { describe, expect, it } from 'vitest';
import { SnapshotScheduler } from '../../../src/replication/host/snapshot-scheduler.js';
import type { GroupStateMachine } from '../../../src/replication/host/state-machine.js';
import { crc32 } from '../../../src/util/checksum.js';
import type { Runtime } from '../../../src/util/runtime.js';

/** A runtime whose `soon` callbacks run only when the test says, and whose clock it sets. */
function manualRuntime() {
  const queue: (() => void)[] = [];
  let time = 0;
  const runtime: Runtime = {
    now: () => time,
    setTimer: () => () => {},
    soon: (fn) => {
      queue.push(fn);
    },
    random: () => 0.5,
  };
  return {
    runtime,
    advance: (ms: number) => {
      time += ms;
    },
    runSoon: () => {
      for (const fn of queue.splice(0)) fn();
    },
  };
}

/** A list of applied strings; no incremental encoder. */
class ListMachine implements GroupStateMachine {
  items: string[] = [];
  apply(data: Uint8Array): unknown {
    this.items.push(new TextDecoder().decode(data));
    return undefined;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(data: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(data));
  }
}

describe('snapshot scheduler', () => {
  it('snapshot – a machine without an encoder is captured when the snapshot starts, not when it is written', () => {
    // Regression (found by the simulator): the state was encoded a turn later, after more entries had
    // applied, and recorded at the earlier index: a snapshot that does not describe its index.
    const m = manualRuntime();
    const taken: { index: number; data: string; checksum: number }[] = [];
    const s = new SnapshotScheduler({
      runtime: m.runtime,
      checksum: crc32,
      slice_ms: 3,
      compact: (_g, index, data, checksum) =>
        taken.push({ index, data: new TextDecoder().decode(data), checksum }),
      running: () => true,
    });
    const machine = new ListMachine();
    machine.apply(new TextEncoder().encode('a'));
    s.start(0, 1, machine);
    machine.apply(new TextEncoder().encode('b'));
    m.runSoon();
    expect(taken).toEqual([{ index: 1, data: '["a"]', checksum: crc32(new TextEncoder().encode('["a"]')) }]);
  });

  it('snapshot – a large state is checksummed a piece per slice and handed over once, with its checksum', () => {
    const m = manualRuntime();
    const data = new Uint8Array(10_000).map((_, i) => i % 251);
    const taken: { index: number; checksum: number }[] = [];
    let steps = 0;
    const s = new SnapshotScheduler({
      runtime: m.runtime,
      checksum: crc32,
      slice_ms: 3,
      checksum_piece_bytes: 1_000,
      compact: (_g, index, _data, checksum) => taken.push({ index, checksum }),
      running: () => true,
    });
    const machine: GroupStateMachine = {
      apply: () => undefined,
      snapshot: () => data,
      restore: () => {},
      // Every step uses up its slice: the clock passes the deadline.
      snapshotEncoder: () => ({
        step: (deadline) => {
          m.advance(deadline);
          return ++steps === 3 ? data : undefined;
        },
      }),
    };
    s.start(7, 42, machine);
    for (let i = 0; i < 30 && taken.length === 0; i++) {
      m.runSoon();
      m.advance(1);
    }
    expect(steps).toBe(3);
    expect(taken).toEqual([{ index: 42, checksum: crc32(data) }]);
  });
});
