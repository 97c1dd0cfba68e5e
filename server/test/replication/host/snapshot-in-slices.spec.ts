import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { validateRaftConfig } from '../../../src/raft/index.js';
import { RaftHost } from '../../../src/replication/host/raft-host.js';
import type { GroupStateMachine, SnapshotSteps } from '../../../src/replication/host/state-machine.js';
import { WalRaftStorage } from '../../../src/replication/storage/wal-storage.js';

const text = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A log of applied strings whose snapshot encoder captures the log when it is
 * created and finishes only once released (one snapshot per release), so the
 * test decides how long a snapshot takes.
 */
class HeldSnapshotMachine implements GroupStateMachine {
  log: string[] = [];
  released = false;
  steps = 0;
  captured: string[][] = [];

  apply(data: Uint8Array): unknown {
    this.log.push(decoder.decode(data));
    return this.log.length;
  }

  snapshot(): Uint8Array {
    return text.encode(JSON.stringify(this.log));
  }

  snapshotEncoder(): SnapshotSteps {
    const captured = [...this.log];
    this.captured.push(captured);
    return {
      step: () => {
        this.steps++;
        if (!this.released) return undefined;
        this.released = false;
        return text.encode(JSON.stringify(captured));
      },
    };
  }

  restore(data: Uint8Array): void {
    this.log = JSON.parse(decoder.decode(data));
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function loadGroup(dir: string, group: number) {
  const storage = await WalRaftStorage.open(dir);
  try {
    return await storage.load(group);
  } finally {
    await storage.close();
  }
}

/**
 * Snapshots are encoded a slice per turn: while one is in progress the group
 * and every other group keep committing, and the snapshot that lands is the
 * state at the index it was captured at, which recovery then builds on.
 */
describe('raft host – snapshots encoded between turns', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function open(dir: string, machines: HeldSnapshotMachine[]) {
    const storage = await WalRaftStorage.open(dir);
    const host = new RaftHost({
      nodeId: 'me',
      storage,
      config: validateRaftConfig({ election_ticks: 5, heartbeat_ticks: 1 }),
      tick_ms: 5,
      snapshot_entries: 10,
      bootstrap: [0, 1],
      initialVoters: () => ['me'],
      machine: (g) => machines[g]!,
      proposal_timeout_ms: 5_000,
      logger: pino({ level: 'silent' }),
    });
    await host.start();
    await until(() => host.isLeader(0) && host.isLeader(1), 'leaders');
    return { storage, host };
  }

  it('keeps committing while a snapshot is encoded, then compacts at the captured index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastpaca-snapslices-'));
    dirs.push(dir);
    const machines = [new HeldSnapshotMachine(), new HeldSnapshotMachine()];
    const { storage, host } = await open(dir, machines);
    const first = host.status(0)!.snapshot_index;
    const propose = (group: number, value: string) => host.propose(group, text.encode(value));

    for (let i = 0; i < 10; i++) await propose(0, `a${i}`);
    await until(() => machines[0]!.captured.length === 1, 'the snapshot to start');
    const captured = machines[0]!.captured[0]!;
    // The held snapshot is stepped turn after turn while both groups go on committing.
    for (let i = 0; i < 30; i++) await Promise.all([propose(0, `b${i}`), propose(1, `c${i}`)]);
    expect(machines[0]!.steps).toBeGreaterThan(1);
    expect(machines[0]!.captured).toHaveLength(1);
    expect(host.status(0)!.snapshot_index).toBe(first);
    expect(machines[0]!.log).toHaveLength(40);
    expect(machines[1]!.log).toHaveLength(30);

    machines[0]!.released = true;
    await until(() => host.status(0)!.snapshot_index > first, 'the snapshot to land');
    const status = host.status(0)!;
    expect(status.snapshot_index).toBeLessThan(status.applied);
    // The core counts the snapshot as taken once it is handed to the writer; a
    // later proposal is durable only after it, so this makes it reach the disk
    // before the stop below (which drops writes still queued).
    await propose(1, 'after the snapshot');
    // The next snapshot, due at once, is held again.
    await until(() => machines[0]!.captured.length === 2, 'the next snapshot to start');
    expect(machines[0]!.captured[1]).toHaveLength(40);
    await host.stop({ snapshot: false });
    await storage.close();

    // Recovery restores the captured state and replays exactly the entries after it.
    const stored = await loadGroup(dir, 0);
    expect(stored.snapshot!.meta.index).toBe(status.snapshot_index);
    expect(JSON.parse(decoder.decode(stored.snapshot!.data))).toEqual(captured);
    const restarted = [new HeldSnapshotMachine(), new HeldSnapshotMachine()];
    const reopened = await open(dir, restarted);
    await until(() => restarted[0]!.log.length === 40, 'replay');
    expect(restarted[0]!.log).toEqual(machines[0]!.log);
    expect(restarted[1]!.log).toEqual(machines[1]!.log);
    await reopened.host.stop();
    await reopened.storage.close();
  });

  it('on shutdown, snapshots what was applied instead of waiting for one still in progress', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastpaca-snapslices-'));
    dirs.push(dir);
    const machines = [new HeldSnapshotMachine(), new HeldSnapshotMachine()];
    const { storage, host } = await open(dir, machines);
    for (let i = 0; i < 15; i++) await host.propose(0, text.encode(`a${i}`));
    await until(() => machines[0]!.captured.length === 1, 'the snapshot to start');
    const applied = host.status(0)!.applied;
    await host.stop();
    await storage.close();
    const stored = await loadGroup(dir, 0);
    expect(stored.snapshot!.meta.index).toBe(applied);
    expect(JSON.parse(decoder.decode(stored.snapshot!.data))).toHaveLength(15);
    expect(stored.entries.filter((e) => e.index > applied)).toHaveLength(0);
  });
});
