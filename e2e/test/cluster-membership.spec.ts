import { TestCluster } from '@fastpaca/server/testing/cluster';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  API_KEY,
  AppendLoad,
  checkHistory,
  client,
  describeCluster,
  until,
  view,
} from '../src/cluster-workload.js';

/**
 * Membership changes under load, on real processes: a fourth node joins and
 * takes its share, a node is drained out, and the coordinator is killed and
 * its successor carries on. Appenders write the whole time; at the end every
 * node serves every acknowledged append exactly once.
 */
let cluster: TestCluster;
const run = `membership-${Date.now().toString(36)}`;
/**
 * One writer per node, each on its own context: a writer whose node is killed
 * retries until it is back, longer than the 1,000 appends a context keeps
 * idempotency keys for (SPEC §3) would last with other writers on it.
 */
let loads: AppendLoad[] = [];
const load = {
  get acks() {
    return loads.flatMap((l) => l.acks);
  },
  get errors() {
    return loads.flatMap((l) => l.errors);
  },
  stop: () => Promise.all(loads.map((l) => l.stop())),
};

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 3,
    env: { FASTPACA_API_KEY: API_KEY },
  });
  loads = [];
  for (const [i, n] of cluster.nodes.entries()) {
    await client(cluster.nodes[0]!.url).context(`${run}-${i}`, { budget: 1_000_000 });
    loads.push(new AppendLoad(`${run}-${i}`, [n.url], 1));
  }
}, 120_000);

beforeEach((context) => {
  context.onTestFailed(async () => {
    const live = cluster.nodes.filter((n) => n.server !== undefined);
    for (const n of live) console.error(await describeCluster(n.url));
    console.error(cluster.output());
  });
});

afterAll(async () => {
  await load.stop();
  await cluster?.stop();
});

/** Every group has three voters (no learners) and a leader, as `url` sees it. */
async function settled(url: string): Promise<boolean> {
  const v = await view(url);
  return v.groups.every(
    (g) => g.leader !== null && g.replicas.length === 3 && g.replicas.every((r) => r.role === 'voter'),
  );
}

describe('cluster – membership under load', () => {
  it('a fourth node joins and takes its share of replicas and leaders', async () => {
    const before = load.acks.length;
    const node = await cluster.addNode();
    await until(
      'node-4 to hold a quarter of the replicas and lead some groups',
      async () => {
        const v = await view(node.url);
        const four = v.nodes.find((n) => n.name === 'node-4');
        return (
          four !== undefined &&
          four.state === 'active' &&
          four.groups_replicated >= 150 &&
          four.groups_led >= 40 &&
          (await settled(node.url))
        );
      },
      90_000,
    );
    const v = await view(cluster.nodes[0]!.url);
    expect(v.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    expect(v.nodes.reduce((s, n) => s + n.groups_replicated, 0)).toBe(256 * 3);
    // Rebalancing never stopped the writers.
    expect(load.acks.length).toBeGreaterThan(before);
    expect(load.errors, JSON.stringify(load.errors.slice(0, 5))).toEqual([]);
  }, 120_000);

  it('a drained node hands over every replica, is removed, and says so', async () => {
    const url = cluster.nodes[0]!.url;
    const drain = await fetch(`${url}/v1/cluster/nodes/node-4/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(drain.status).toBe(202);
    expect(((await drain.json()) as { state: string }).state).toBe('draining');
    await until(
      'node-4 to be removed with no replicas left',
      async () => {
        const v = await view(url);
        const four = v.nodes.find((n) => n.name === 'node-4');
        return (four === undefined || four.state === 'removed') && (await settled(url));
      },
      90_000,
    );
    const v = await view(url);
    expect(v.groups.flatMap((g) => g.replicas).filter((r) => r.node === 'node-4')).toEqual([]);
    // The removed node stops serving and tells its operator why.
    const four = cluster.nodes[3]!;
    await until('node-4 to know it was removed', async () => {
      const ready = await fetch(`${four.url}/health/ready`);
      return ready.status === 503 && (await ready.text()).includes('removed');
    });
    expect(load.errors, JSON.stringify(load.errors.slice(0, 5))).toEqual([]);
    await cluster.kill(3);
    // Three active nodes are left: draining one more would leave groups that cannot lose a replica.
    const refused = await fetch(`${url}/v1/cluster/nodes/node-1/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { message: string }).message).toMatch(
      /would leave 2 active nodes.*add a node first/,
    );
  }, 120_000);

  it('when the coordinator is killed, another node takes over and acts: a new node gets its replicas', async () => {
    const old = (await view(cluster.nodes[0]!.url)).coordinator;
    const killed = cluster.nodes.findIndex((n) => n.name === old);
    expect(killed).toBeGreaterThanOrEqual(0);
    expect(killed).toBeLessThan(3);
    await cluster.kill(killed);
    const survivor = cluster.nodes[(killed + 1) % 3]!;
    await until('a new coordinator', async () => {
      const c = (await view(survivor.url)).coordinator;
      return c !== null && c !== old;
    });
    // Only a coordinator places replicas: a fifth node getting some proves the successor works.
    const five = await cluster.addNode();
    await until(
      'node-5 to be given replicas by the new coordinator',
      async () => {
        const v = await view(five.url);
        const mine = v.nodes.find((n) => n.name === 'node-5');
        return mine !== undefined && mine.groups_replicated > 0;
      },
      90_000,
    );
    await cluster.startNode(killed);
    await until(
      'every group settled again with all nodes up',
      async () => {
        const v = await view(survivor.url);
        return (
          v.nodes.filter((n) => n.state === 'active').every((n) => n.status === 'up') &&
          (await settled(survivor.url))
        );
      },
      90_000,
    );
    await load.stop();
    // Writers through the killed coordinator saw errors while it was down; no write was lost or doubled.
    expect(load.acks.length).toBeGreaterThan(100);
    const live = cluster.nodes.filter((n) => n.server !== undefined && n.name !== 'node-4');
    for (const n of live) for (const l of loads) await checkHistory(n.url, l.contextId, l.acks);
  }, 240_000);
});
