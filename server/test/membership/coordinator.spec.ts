import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ClusterState, Member } from '../../src/membership/cluster-state.js';
import { Coordinator } from '../../src/membership/coordinator.js';
import type { NodeControl } from '../../src/membership/node-control.js';
import { type LeadReport, ReportBook } from '../../src/membership/reports.js';
import { META_GROUP } from '../../src/placement/groups.js';
import { desiredVoters } from '../../src/placement/placement.js';
import type { ConfChange, GroupId, NodeId, ReplicaId } from '../../src/raft/types.js';
import type { RaftHost } from '../../src/replication/host/raft-host.js';
import type { Runtime } from '../../src/util/runtime.js';

/** A clock the test moves, with timers that fire when it passes their time. */
function manualClock() {
  let time = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const runtime: Runtime = {
    now: () => time,
    setTimer: (ms, fn) => {
      const t = { at: time + ms, fn };
      timers.push(t);
      return () => {
        timers = timers.filter((x) => x !== t);
      };
    },
    soon: (fn) => {
      queueMicrotask(fn);
    },
    random: () => 0.5,
  };
  return {
    runtime,
    /** Moves time forward in steps, firing due timers and letting their promises settle. */
    async advance(ms: number, step = 250): Promise<void> {
      for (const end = time + ms; time < end; ) {
        time = Math.min(end, time + step);
        const due = timers.filter((t) => t.at <= time);
        timers = timers.filter((t) => t.at > time);
        for (const t of due) t.fn();
        for (let i = 0; i < 20; i++) await Promise.resolve();
      }
    },
  };
}

const member = (id: string, state: Member['state'] = 'active'): Member => ({
  id,
  name: id,
  address: `${id}:1`,
  state,
});

describe('coordinator', () => {
  it('takes out a learner that never answers in a group too idle for its lag to show', async () => {
    // Seen end to end: a drain left learners that never caught up in idle groups. The stall rule only
    // looked at lag, and a commit index within the promotion lag of 0 hid a learner at match 0: never
    // promoted, never taken out, and the drained node's voter never removed.
    const clock = manualClock();
    const group: GroupId = 12;
    const learner: ReplicaId = 'n1/7';
    const cluster: ClusterState = {
      cluster_id: 'c',
      founders: [],
      members: new Map(
        [member('n1'), member('n2'), member('n3'), member('n4', 'draining')].map((m) => [m.id, m]),
      ),
      next_replica: 8,
    };
    const host = {
      isLeader: (g: GroupId) => g === META_GROUP,
      readBarrier: async () => {},
      propose: async () => ({ ok: true }),
      // The meta group is where it belongs: the three active nodes are its voters.
      status: (g: GroupId) =>
        g === META_GROUP
          ? {
              id: 'n1',
              term: 2,
              conf: { voters: ['n1', 'n2', 'n3'], learners: [] },
              conf_index: 1,
              commit: 5,
              progress: { n2: { match: 5, recent_active: true }, n3: { match: 5, recent_active: true } },
            }
          : undefined,
      replicaOf: (g: GroupId) => (g === group ? learner : undefined),
      groups: () => [group],
    } as unknown as RaftHost;
    const reports = new ReportBook(() => clock.runtime.now());
    const lead: LeadReport = {
      group,
      term: 3,
      leader: 'n2',
      conf: { voters: ['n2', 'n3', 'n4'], learners: [learner] },
      conf_index: 9,
      commit: 10,
      progress: [
        ['n3', 10, true],
        ['n4', 10, true],
        [learner, 0, false],
      ],
    };
    const { coordinator, changes } = recordingCoordinator({
      self: 'n1',
      host,
      cluster,
      reports,
      clock,
    });
    coordinator.start();
    try {
      for (let t = 0; t < 40_000; t += 500) {
        reports.receive('n2', { ch: 'report', leads: [lead] });
        await clock.advance(500);
      }
    } finally {
      coordinator.stop();
    }
    expect(changes).toEqual([{ group, change: { type: 'remove', node: learner } }]);
  });

  it('keeps a caught-up learner in a group that takes no writes', async () => {
    const clock = manualClock();
    const members = [member('n1'), member('n2'), member('n3'), member('n4')];
    const cluster: ClusterState = {
      cluster_id: 'c',
      founders: [],
      members: new Map(members.map((m) => [m.id, m])),
      next_replica: 6,
    };
    // The meta group keeps a learner on every node beyond its voters; this one is idle and current.
    const placed = members.map((m) => ({ id: m.id, name: m.name, eligible: true, keeps: true }));
    const voters = desiredVoters(META_GROUP, placed, 3, { voters: [], learners: [] });
    const self = voters[0]!;
    const learner: ReplicaId = `${members.find((m) => !voters.includes(m.id))!.id}/5`;
    // The leader forgets who answered every election timeout: now and then a live member reads inactive.
    let calls = 0;
    const progress = () => {
      const active = ++calls % 3 !== 0;
      return Object.fromEntries(
        [...voters.slice(1), learner].map((r) => [r, { match: 20, recent_active: active }]),
      );
    };
    const host = {
      isLeader: (g: GroupId) => g === META_GROUP,
      readBarrier: async () => {},
      propose: async () => ({ ok: true }),
      status: () => ({
        id: self,
        term: 2,
        conf: { voters, learners: [learner] },
        conf_index: 4,
        commit: 20,
        progress: progress(),
      }),
      replicaOf: () => undefined,
      groups: () => [],
    } as unknown as RaftHost;
    const { coordinator, changes } = recordingCoordinator({
      self,
      host,
      cluster,
      reports: new ReportBook(() => clock.runtime.now()),
      clock,
    });
    coordinator.start();
    try {
      await clock.advance(90_000);
    } finally {
      coordinator.stop();
    }
    expect(changes).toEqual([]);
  });
});

/** A coordinator with the production option values whose node control only records the changes it asks for. */
function recordingCoordinator(o: {
  self: NodeId;
  host: RaftHost;
  cluster: ClusterState;
  reports: ReportBook;
  clock: ReturnType<typeof manualClock>;
}): { coordinator: Coordinator; changes: { group: GroupId; change: ConfChange }[] } {
  const changes: { group: GroupId; change: ConfChange }[] = [];
  const control: NodeControl = {
    createReplica: async () => {},
    destroyReplica: async () => {},
    changeConf: async (group, change) => {
      changes.push({ group, change });
    },
    transferLeader: async () => {},
  };
  const coordinator = new Coordinator({
    self: o.self,
    host: o.host,
    cluster: () => o.cluster,
    reports: o.reports,
    silentFor: () => 0,
    control: () => control,
    runtime: o.clock.runtime,
    logger: pino({ level: 'silent' }),
    down_after_ms: 60_000,
    learner_stall_ms: 30_000,
    promote_lag_entries: 64,
    tellRemoved: async () => {},
  });
  return { coordinator, changes };
}
