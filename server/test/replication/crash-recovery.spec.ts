import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/raft/index.js';
import { RaftCluster } from '../../src/testing/raft-cluster.js';

/**
 * A node appending with fsync is killed -9 at random moments, again and again
 * (snapshots and log compaction happen in between); after every restart its log
 * is readable and holds every acknowledged entry, exactly once, in order.
 */
describe('raft storage – crash recovery', () => {
  let cluster: RaftCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('every acknowledged entry survives repeated kill -9', async () => {
    const prng = new Prng(7);
    cluster = await RaftCluster.start(1, {
      RAFT_GROUPS: '2',
      RAFT_TICK_MS: '10',
      RAFT_SNAPSHOT_ENTRIES: '150',
    });
    const c = cluster;
    const acked: string[][] = [[], []];
    let n = 0;
    for (let round = 0; round < 8; round++) {
      await c.waitReady();
      let stop = false;
      const writers = Array.from({ length: 6 }, async (_, w) => {
        while (!stop) {
          const group = w % 2;
          const text = `r${round}-w${w}-${++n}`;
          try {
            const res = await c.propose(0, group, text);
            if (res.status === 201) acked[group]!.push(text);
          } catch {
            return;
          }
        }
      });
      await new Promise((r) => setTimeout(r, 50 + prng.int(400)));
      stop = true;
      await c.kill(0);
      await Promise.allSettled(writers);
      c.restart(0);
      await c.waitReady();
      for (const group of [0, 1]) {
        const log = await c.applied(0, group);
        expect(new Set(log).size, `round ${round} group ${group}: no duplicates`).toBe(log.length);
        const position = new Map(log.map((t, i) => [t, i]));
        let previous = -1;
        for (const text of acked[group]!) {
          const at = position.get(text);
          expect(at, `round ${round}: acknowledged ${text} lost`).toBeDefined();
          // Acknowledgements of one writer arrive in log order.
          if (text.includes(`-w${group}-`)) {
            expect(at!).toBeGreaterThan(previous);
            previous = at!;
          }
        }
      }
    }
    expect(acked[0]!.length + acked[1]!.length).toBeGreaterThan(300);
  }, 120_000);
});
