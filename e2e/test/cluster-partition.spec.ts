import { groupOf } from '@fastpaca/server/placement';
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
 * Three real server processes whose node links run through a fault proxy. The
 * node leading a context's group is cut off from both others (clients still
 * reach it): the majority elects a new leader and goes on; the cut-off node
 * acknowledges no write and serves no stale read; after the cut heals it
 * catches up and nothing acknowledged anywhere is lost or doubled.
 */
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 3,
    proxied: true,
    env: { FASTPACA_API_KEY: API_KEY, FASTPACA_REQUEST_TIMEOUT_MS: '2000' },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

interface Read {
  readonly started: number;
  readonly lastSeq: number;
}

/** Reads a context's last_seq through `url` in a loop (no retries), recording every 200. */
class ReadLoad {
  readonly reads: Read[] = [];
  failures = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(url: string, contextId: string) {
    this.done = (async () => {
      while (this.running) {
        const started = Date.now();
        try {
          const res = await fetch(`${url}/v1/contexts/${contextId}`, {
            headers: { authorization: `Bearer ${API_KEY}` },
            signal: AbortSignal.timeout(5_000),
          });
          if (res.status === 200) {
            this.reads.push({ started, lastSeq: ((await res.json()) as { last_seq: number }).last_seq });
          } else {
            this.failures++;
            await res.body?.cancel();
          }
        } catch {
          this.failures++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

describe('cluster – partitions', () => {
  it('a leader cut off from the others: the majority goes on, the cut-off node acknowledges nothing and serves no stale read', async () => {
    const contextId = `partition-${Date.now().toString(36)}`;
    await client(cluster.nodes[0]!.url).context(contextId, { budget: 1_000_000 });
    const cut = await leaderIndex(cluster, contextId);
    const isolated = cluster.nodes[cut]!;
    const majority = cluster.nodes.filter((_, i) => i !== cut).map((n) => n.url);
    // The cut-off node's writer uses a context of the same group: its retries wait out the whole
    // partition, and idempotency keys are kept for the last 1,000 appends of a context (SPEC §3),
    // which the majority's writers would otherwise pass before those retries land.
    let k = 0;
    while (groupOf(`${contextId}-minority-${k}`) !== groupOf(contextId)) k++;
    const sibling = `${contextId}-minority-${k}`;
    await client(cluster.nodes[0]!.url).context(sibling, { budget: 1_000_000 });
    const majorityLoad = new AppendLoad(contextId, majority, 2);
    const minorityLoad = new AppendLoad(sibling, [isolated.url], 1);
    const reads = new ReadLoad(isolated.url, contextId);
    await until('appends flowing', () => majorityLoad.acks.length >= 40 && minorityLoad.acks.length >= 10);

    const cutAt = Date.now();
    cluster.proxy!.isolate(isolated.name);
    await until('the majority to elect a leader of its own', async () => {
      const leader = (await view(majority[0]!)).groups.find(
        (g) => g.leader !== null && g.leader !== isolated.name,
      );
      return leader !== undefined && (await leaderIndex(cluster, contextId, (cut + 1) % 3)) !== cut;
    });
    await until(
      'the majority acknowledging appends again',
      () => majorityLoad.acksAfter(cutAt + 3_000).length >= 40,
    );
    const resumed = majorityLoad.acksAfter(cutAt)[0]!.at - cutAt;
    // A client of the cut-off node gets a 503 it can act on, within the request timeout: never a hang or a 500.
    const asked = Date.now();
    const refused = await fetch(`${isolated.url}/v1/contexts/${contextId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { role: 'user', parts: [{ type: 'text', text: 'cut off' }] } }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: string }).error).toBe('unavailable');
    expect(Date.now() - asked).toBeLessThan(2_000 + 1_500);
    // Hold the partition long enough that the cut-off node's requests time out.
    await new Promise((r) => setTimeout(r, 3_000));
    const healAt = Date.now();
    cluster.proxy!.heal();

    await until(
      'the healed node acknowledging appends again',
      () => minorityLoad.acksAfter(healAt).length >= 10,
    );
    await Promise.all([majorityLoad.stop(), minorityLoad.stop(), reads.stop()]);

    // A write acknowledged by the cut-off node must have committed with a quorum before the cut;
    // 300 ms covers one already committed whose answer was on its way.
    const duringCut = minorityLoad.acks.filter((a) => a.at > cutAt + 300 && a.at < healAt);
    expect(duringCut).toEqual([]);
    expect(resumed, `majority resumed ${resumed} ms after the cut`).toBeLessThan(5_000);
    expect(majorityLoad.errors, JSON.stringify(majorityLoad.errors.slice(0, 5))).toEqual([]);

    // Linearizable reads: a read that answered saw every append acknowledged before it began.
    const acks = majorityLoad.acks;
    const stale = reads.reads.filter((r) => {
      const acknowledged = acks.filter((a) => a.at < r.started).reduce((m, a) => Math.max(m, a.seq), 0);
      return r.lastSeq < acknowledged;
    });
    expect(reads.reads.filter((r) => r.started < cutAt).length).toBeGreaterThan(0);
    expect(stale).toEqual([]);
    expect(reads.reads.filter((r) => r.started > cutAt + 300 && r.started < healAt - 2_500)).toEqual([]);
    expect(reads.failures).toBeGreaterThan(0);

    for (const n of cluster.nodes) {
      await until(`${n.name} to serve the whole history`, async () => {
        await checkHistory(n.url, contextId, acks);
        await checkHistory(n.url, sibling, minorityLoad.acks);
        return true;
      });
    }
  }, 180_000);
});
