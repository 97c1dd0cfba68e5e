import { groupOf } from '@fastpaca/server/placement';
import { startServerProcess } from '@fastpaca/server/testing';
import { TEST_CLUSTER_SECRET, TestCluster } from '@fastpaca/server/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, client, until, view } from '../src/cluster-workload.js';

/**
 * Four real server processes on loopback (3 replicas per group, so every node
 * lacks some groups): every route and the stream through every node, and the
 * link's refusals.
 */
let cluster: TestCluster;
const run = Date.now().toString(36);

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 4,
    env: { FASTPACA_API_KEY: API_KEY, FASTPACA_CLUSTER_FORM_NODES: '4' },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const text = (t: string) => ({ role: 'user' as const, parts: [{ type: 'text' as const, text: t }] });

describe('cluster – any node serves any request', () => {
  it('shows the cluster: four nodes, 256 groups of three voters, leaders spread, one coordinator', async () => {
    await until('placement and leaders to settle', async () => {
      const v = await view(cluster.nodes[0]!.url);
      return (
        v.groups.every((g) => g.leader !== null && g.replicas.length === 3) &&
        v.nodes.every((n) => n.groups_led >= 40)
      );
    });
    const v = await view(cluster.nodes[2]!.url);
    expect(v.mode).toBe('cluster');
    expect(v.cluster_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(v.node).toBe('node-3');
    expect(v.nodes.map((n) => [n.name, n.state, n.status])).toEqual(
      cluster.nodes.map((n) => [n.name, 'active', 'up']),
    );
    expect(v.nodes.filter((n) => n.coordinator).map((n) => n.name)).toEqual([v.coordinator]);
    expect(v.nodes.reduce((s, n) => s + n.groups_replicated, 0)).toBe(256 * 3);
    expect(v.groups).toHaveLength(256);
    expect(v.meta?.replicas.filter((r) => r.role === 'voter')).toHaveLength(3);
    expect(v.meta?.replicas).toHaveLength(4);
    // Every node sees the same cluster (the SDK's view of it too).
    for (const n of cluster.nodes) expect((await client(n.url).cluster()).cluster_id).toBe(v.cluster_id);
  });

  it('serves every route through every node, with the same answers from each', async () => {
    for (const [i, node] of cluster.nodes.entries()) {
      const id = `api-${run}-${i}`;
      const c = client(node.url);
      const handle = await c.context(id, { budget: 10_000, metadata: { n: i } });
      for (const [j, other] of cluster.nodes.entries()) {
        await client(other.url)
          .contextHandle(id)
          .append(text(`from ${j}`), { idempotencyKey: `${id}-${j}` });
      }
      // A retried append with its key is not applied twice, whichever node it goes through.
      const again = await client(cluster.nodes[(i + 1) % 4]!.url)
        .contextHandle(id)
        .append(text('from 0'), { idempotencyKey: `${id}-0` });
      expect(again.replayed).toBe(true);
      await handle.updateMetadata({ n: i, patched: true });
      const compacted = await handle.compact([text('summary')], { ifVersion: 5 });
      expect(compacted.version).toBe(6);
      const token = await handle.createToken({ rights: ['read'] });
      const answers = [];
      for (const other of cluster.nodes) {
        const h = client(other.url).contextHandle(id);
        answers.push({
          context: await h.get(),
          tail: await h.getTail({ limit: 10 }),
          messages: await h.messages({ afterSeq: 0, limit: 10 }),
          window: await h.context(),
        });
        // A scoped token made on one node opens the context on every node.
        const scoped = await fetch(`${other.url}/v1/contexts/${id}`, {
          headers: { authorization: `Bearer ${token.token}` },
        });
        expect(scoped.status).toBe(200);
      }
      for (const a of answers) expect(a).toEqual(answers[0]);
      expect(
        answers[0]!.messages.messages.map((m) => (m.parts[0] as unknown as { text: string }).text),
      ).toEqual(['from 0', 'from 1', 'from 2', 'from 3']);
      expect(answers[0]!.context.metadata).toEqual({ n: i, patched: true });
      expect(
        answers[0]!.window.messages.map((m) => (m.parts[0] as unknown as { text: string }).text),
      ).toEqual(['summary']);
      await client(cluster.nodes[(i + 2) % 4]!.url)
        .contextHandle(id)
        .delete();
      await expect(c.contextHandle(id).append(text('late'))).rejects.toMatchObject({ status: 409 });
    }
  }, 120_000);

  it('streams through every node, relayed from a replica where the node holds none', async () => {
    const id = `stream-${run}`;
    await client(cluster.nodes[0]!.url).context(id, { budget: 10_000 });
    const v = await view(cluster.nodes[0]!.url);
    const holders = new Set(v.groups[groupOf(id)]!.replicas.map((r) => r.node));
    const relaying = cluster.nodes.find((n) => !holders.has(n.name))!;
    expect(relaying).toBeDefined();
    const seen = new Map<string, number[]>();
    const subs = cluster.nodes.map((n) => {
      const versions: number[] = [];
      seen.set(n.name, versions);
      return client(n.url)
        .contextHandle(id)
        .subscribe({
          onEvent: (e) => {
            if (e.type === 'message') versions.push(e.version);
          },
        });
    });
    await until('every subscription live', () => subs.every((s) => s.status === 'open'), 20_000);
    for (let k = 0; k < 12; k++) {
      await client(cluster.nodes[k % 4]!.url)
        .contextHandle(id)
        .append(text(`event ${k}`));
    }
    await until('every subscriber to see all twelve versions', () =>
      [...seen.values()].every((versions) => versions.length === 12),
    );
    for (const [name, versions] of seen) {
      expect(versions, name).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));
    }
    // A relayed subscriber that reconnects with its cursor gets what it missed, exactly once.
    const late: number[] = [];
    const resumed = client(relaying.url)
      .contextHandle(id)
      .subscribe({
        cursor: 6,
        onEvent: (e) => {
          if (e.type === 'message') late.push(e.version);
        },
      });
    await until('the resumed subscriber to catch up', () => late.length === 6, 20_000);
    expect(late).toEqual([7, 8, 9, 10, 11, 12]);
    for (const s of [...subs, resumed]) s.abort();
  }, 60_000);

  it('drain answers 404 for a node it does not know, and the cluster routes need the API key', async () => {
    const res = await fetch(`${cluster.nodes[1]!.url}/v1/cluster/nodes/nobody/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(404);
    const anonymous = await fetch(`${cluster.nodes[1]!.url}/v1/cluster`);
    expect(anonymous.status).toBe(401);
  });
});

describe('cluster – the node link refuses strangers', () => {
  it('a node with the wrong secret never joins, and says why', async () => {
    const stranger = await startServerProcess({
      env: {
        FASTPACA_NODE_NAME: 'stranger',
        FASTPACA_CLUSTER_SEED: cluster.nodes.map((n) => n.address).join(','),
        FASTPACA_CLUSTER_SECRET: 'not the cluster secret at all!!',
        FASTPACA_TOKEN_ESTIMATOR: 'chars:4',
        FASTPACA_LOG_LEVEL: 'warn',
      },
      readyPath: '/health/live',
    });
    try {
      await until('the stranger to report the failed proof', () =>
        stranger.output().includes('could not prove it knows FASTPACA_CLUSTER_SECRET'),
      );
      const ready = await fetch(`${stranger.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect((await view(cluster.nodes[0]!.url)).nodes.map((n) => n.name)).not.toContain('stranger');
    } finally {
      await stranger.kill();
      stranger.cleanup();
    }
  }, 60_000);

  it('a node of another cluster cannot join or take part, even with the right secret', async () => {
    // A cluster of one of its own first (it forms alone), then pointed at this cluster.
    const other = await startServerProcess({
      env: {
        FASTPACA_NODE_NAME: 'other',
        FASTPACA_CLUSTER_SEED: '127.0.0.1:9',
        FASTPACA_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
        FASTPACA_CLUSTER_FORM_NODES: '1',
        FASTPACA_TOKEN_ESTIMATOR: 'chars:4',
        FASTPACA_LOG_LEVEL: 'warn',
      },
    });
    const otherId = (await (await fetch(`${other.url}/v1/cluster`)).json()) as { cluster_id: string };
    await other.kill();
    const rejoined = await startServerProcess({
      dataDir: other.dataDir,
      env: {
        FASTPACA_NODE_NAME: 'other',
        FASTPACA_CLUSTER_SEED: cluster.nodes.map((n) => n.address).join(','),
        FASTPACA_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
        FASTPACA_TOKEN_ESTIMATOR: 'chars:4',
        FASTPACA_LOG_LEVEL: 'warn',
      },
      readyPath: '/health/live',
    });
    try {
      await until('the other cluster’s node to be refused', () =>
        rejoined.output().includes(`belongs to cluster ${otherId.cluster_id}`),
      );
      const v = await view(cluster.nodes[0]!.url);
      expect(v.nodes.map((n) => n.name)).not.toContain('other');
      expect(v.cluster_id).not.toBe(otherId.cluster_id);
    } finally {
      await rejoined.kill();
      rejoined.cleanup();
    }
  }, 60_000);

  it('SIGTERM stops a cluster node cleanly and soon (its node link does not hold the HTTP server open)', async () => {
    const node = cluster.nodes[3]!;
    const started = Date.now();
    const code = await node.server!.stop();
    const took = Date.now() - started;
    node.server = undefined;
    expect(code, node.name).toBe(0);
    // The shutdown budget is 10 s; a node waiting on its own link sockets used all of it and exited 1.
    expect(took).toBeLessThan(5_000);
    const c = client(cluster.nodes[0]!.url).contextHandle(`after-stop-${run}`);
    await until('the others to serve writes without it', async () => {
      await client(cluster.nodes[0]!.url).context(`after-stop-${run}`, { budget: 1_000 });
      return (await c.append(text('still here'))).seq === 1;
    });
  }, 60_000);
});
