import { afterAll, describe, expect, it } from 'vitest';
import { RaftCluster } from '../../src/testing/raft-cluster.js';

/**
 * Real processes, real TCP, real LMDB with fsync: kill -9 the leader during a
 * write load; a new leader takes over and writes resume within 2 s; every
 * acknowledged entry is present exactly once, in the same order, on every
 * survivor and on the restarted node.
 */
describe('raft cluster – leader killed under load', () => {
  let cluster: RaftCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('elects a new leader, resumes writes within 2 s, loses and duplicates nothing', async () => {
    const GROUPS = 4;
    cluster = await RaftCluster.start(3, {
      RAFT_GROUPS: String(GROUPS),
      RAFT_TICK_MS: '20',
      RAFT_ELECTION_TICKS: '10',
      RAFT_SNAPSHOT_ENTRIES: '40',
    });
    const c = cluster;
    await c.waitReady();

    const acked: Map<number, string[]> = new Map(Array.from({ length: GROUPS }, (_, g) => [g, []]));
    let stop = false;
    let lastAckAt = 0;
    let seq = 0;
    let killedAt = 0;
    let firstAckAfterKill = 0;
    const hint = new Map<number, number>();

    const writer = async (w: number) => {
      while (!stop) {
        const group = (w + seq) % GROUPS;
        const text = `w${w}-${++seq}`;
        let target = hint.get(group) ?? (await c.leaderOf(group));
        if (target < 0 || !c.alive(target)) {
          await new Promise((r) => setTimeout(r, 20));
          hint.delete(group);
          continue;
        }
        try {
          const res = await c.propose(target, group, text);
          if (res.status === 201) {
            acked.get(group)!.push(text);
            lastAckAt = Date.now();
            if (killedAt && !firstAckAfterKill) firstAckAfterKill = lastAckAt;
          } else {
            target = c.indexOf(res.leader);
            if (target >= 0) hint.set(group, target);
            else hint.delete(group);
            await new Promise((r) => setTimeout(r, 10));
          }
        } catch {
          hint.delete(group);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));

    // Load first: at least 50 acknowledged writes (a loaded machine takes longer than an idle one).
    const loadDeadline = Date.now() + 20_000;
    await new Promise((r) => setTimeout(r, 1_000));
    while ([...acked.values()].reduce((n, a) => n + a.length, 0) <= 50 && Date.now() < loadDeadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const victim = await c.leaderOf(0);
    expect(victim).toBeGreaterThanOrEqual(0);
    killedAt = Date.now();
    await c.kill(victim);
    const ackedBeforeKill = [...acked.values()].reduce((n, a) => n + a.length, 0);

    // Writes to the victim's groups must resume on a new leader.
    const resumeDeadline = killedAt + 10_000;
    while (Date.now() < resumeDeadline) {
      const leader = await c.leaderOf(0);
      if (leader >= 0 && leader !== victim && firstAckAfterKill && lastAckAt > killedAt + 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(firstAckAfterKill, c.logs()).toBeGreaterThan(0);
    const newLeader = await c.leaderOf(0);
    expect(newLeader).not.toBe(victim);
    // A write to group 0 specifically lands within 2 s of the kill.
    let group0ResumedAt = 0;
    while (!group0ResumedAt && Date.now() < killedAt + 10_000) {
      const res = await c.propose(await c.leaderOf(0), 0, `probe-${Date.now()}`).catch(() => ({ status: 0 }));
      if (res.status === 201) group0ResumedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(group0ResumedAt - killedAt, 'group 0 writable again (ms)').toBeLessThan(2_000);

    await new Promise((r) => setTimeout(r, 500));
    c.restart(victim);
    await new Promise((r) => setTimeout(r, 1_000));
    stop = true;
    await Promise.all(writers);
    await c.waitReady();

    // Wait for every member to apply the same number of entries per group.
    const deadline = Date.now() + 15_000;
    let logs: string[][][] = [];
    for (;;) {
      logs = await Promise.all(
        [0, 1, 2].map((i) => Promise.all(Array.from({ length: GROUPS }, (_, g) => c.applied(i, g)))),
      );
      const same = Array.from({ length: GROUPS }, (_, g) =>
        logs.every((l) => l[g]!.length === logs[0]![g]!.length),
      ).every(Boolean);
      if (same || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let g = 0; g < GROUPS; g++) {
      const reference = logs[0]![g]!;
      for (let i = 1; i < 3; i++) expect(logs[i]![g], `member ${i} group ${g}`).toEqual(reference);
      expect(new Set(reference).size, `group ${g} has no duplicates`).toBe(reference.length);
      const present = new Set(reference);
      for (const text of acked.get(g)!)
        expect(present.has(text), `${text} acknowledged but missing`).toBe(true);
    }
    const total = [...acked.values()].reduce((n, a) => n + a.length, 0);
    expect(ackedBeforeKill).toBeGreaterThan(50);
    expect(total).toBeGreaterThan(ackedBeforeKill);
  }, 90_000);
});
