import { TestCluster } from '@fastpaca/server/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  AppendLoad,
  checkHistory,
  client,
  leaderIndex,
  until,
  view,
} from '../src/cluster-workload.js';

/**
 * Three real server processes on loopback. The node leading a context's group
 * is killed with SIGKILL while appenders write through the other two; then it
 * comes back far behind (it catches up through a snapshot), and then a node
 * comes back with an empty disk under its old name.
 */
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 3,
    env: {
      FASTPACA_API_KEY: API_KEY,
      // Small snapshots, so a node that was down catches up through one.
      FASTPACA_RAFT_SNAPSHOT_ENTRIES: '40',
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('cluster – failover', () => {
  const contextId = `failover-${Date.now().toString(36)}`;
  let load: AppendLoad;
  let killed: number;

  it('kill -9 of a group leader under load: writes resume within 2 s, nothing acknowledged is lost or doubled', async () => {
    await client(cluster.nodes[0]!.url).context(contextId, { budget: 1_000_000 });
    killed = await leaderIndex(cluster, contextId);
    const survivors = cluster.nodes.filter((_, i) => i !== killed).map((n) => n.url);
    load = new AppendLoad(contextId, survivors, 3);
    await until('appends flowing', () => load.acks.length >= 60);

    const killedAt = Date.now();
    await cluster.kill(killed);
    // Enough that the killed node falls further behind than leaders keep log for (128 entries past a snapshot).
    await until('appends after the kill', () => load.acksAfter(killedAt).length >= 250, 60_000);
    const resumed = load.acksAfter(killedAt)[0]!.at - killedAt;
    await load.stop();

    // Appenders talk to the survivors: the outage shows as latency, never as an error.
    expect(load.errors, JSON.stringify(load.errors.slice(0, 5))).toEqual([]);
    expect(resumed, `first append acknowledged ${resumed} ms after the kill`).toBeLessThan(2_000);
    for (const url of survivors) await checkHistory(url, contextId, load.acks);
  }, 120_000);

  it('the killed node restarts, catches up through a snapshot, and serves the same history', async () => {
    await cluster.startNode(killed);
    const node = cluster.nodes[killed]!;
    await until('a snapshot installed on the restarted node', async () => {
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      return /fastpaca_raft_snapshot_transfers_total\{direction="received"[^}]*\} [1-9]/.test(metrics);
    });
    await until('the restarted node serving the whole history', async () => {
      await checkHistory(node.url, contextId, load.acks);
      return true;
    });
    const v = await view(node.url);
    expect(v.nodes.every((n) => n.status === 'up')).toBe(true);
  }, 120_000);

  it('a node restarted with an empty disk under its old name rejoins as a new replica, without loss', async () => {
    const wiped = (killed + 1) % 3;
    const before = (await view(cluster.nodes[0]!.url)).nodes.find(
      (n) => n.name === cluster.nodes[wiped]!.name,
    )!;
    const writers = new AppendLoad(
      contextId,
      cluster.nodes.filter((_, i) => i !== wiped).map((n) => n.url),
      1,
    );
    await cluster.kill(wiped);
    cluster.wipe(wiped);
    await cluster.startNode(wiped);
    const name = cluster.nodes[wiped]!.name;
    // It is a new node: a new id, its old incarnation replaced and then forgotten once its replicas are gone.
    await until(
      'the old incarnation to be replaced and forgotten',
      async () => {
        const v = await view(cluster.nodes[wiped]!.url);
        const mine = v.nodes.filter((n) => n.name === name);
        return (
          mine.length === 1 &&
          mine[0]!.id !== before.id &&
          mine[0]!.groups_replicated === 256 &&
          v.groups.every((g) => g.replicas.length === 3 && g.replicas.every((r) => r.role === 'voter'))
        );
      },
      90_000,
    );
    await writers.stop();
    expect(writers.errors).toEqual([]);
    const all = [...load.acks, ...writers.acks];
    for (const n of cluster.nodes) await checkHistory(n.url, contextId, all);
  }, 150_000);
});
