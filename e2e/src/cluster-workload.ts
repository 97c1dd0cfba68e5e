import type { ClusterView } from '@fastpaca/contract';
import { createClient, type FastpacaClient } from '@fastpaca/sdk';
import { groupOf } from '@fastpaca/server/placement';
import type { TestCluster } from '@fastpaca/server/testing/cluster';

export const API_KEY = 'cluster-test-api-key-0123456789';

export function client(url: string, retry = true): FastpacaClient {
  return createClient({
    baseUrl: url,
    apiKey: API_KEY,
    timeoutMs: 15_000,
    ...(retry ? { retry: { maxAttempts: 30, baseDelayMs: 50, maxDelayMs: 500 } } : { retry: false }),
  });
}

export async function view(url: string): Promise<ClusterView> {
  const res = await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${API_KEY}` } });
  if (!res.ok) throw new Error(`GET /v1/cluster on ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ClusterView;
}

/** Index (0-based) of the node leading `contextId`'s group, as node `via` sees it. */
export async function leaderIndex(cluster: TestCluster, contextId: string, via = 0): Promise<number> {
  const v = await view(cluster.nodes[via]!.url);
  const leader = v.groups[groupOf(contextId)]!.leader;
  const i = cluster.nodes.findIndex((n) => n.name === leader);
  if (i < 0) throw new Error(`group of ${contextId} has no leader (${leader})`);
  return i;
}

export async function until(
  what: string,
  condition: () => Promise<boolean> | boolean,
  ms = 60_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? `; last error: ${(last as Error).message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Ack {
  readonly text: string;
  readonly seq: number;
  /** ms since the epoch when the acknowledgement arrived. */
  readonly at: number;
}

/**
 * Appenders on one context through the SDK (idempotency keys on every append,
 * retries on 503s and lost connections), each through the node it is given.
 * Records every acknowledged append and every error a caller would have seen.
 */
export class AppendLoad {
  readonly acks: Ack[] = [];
  readonly errors: { url: string; message: string; at: number }[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private n = 0;

  constructor(
    readonly contextId: string,
    urls: readonly string[],
    writersPerUrl = 2,
  ) {
    for (const url of urls) {
      for (let w = 0; w < writersPerUrl; w++) this.loops.push(this.loop(url));
    }
  }

  private async loop(url: string): Promise<void> {
    const handle = client(url).contextHandle(this.contextId);
    while (this.running) {
      const text = `m-${this.n++}-${Math.random().toString(36).slice(2, 8)}`;
      try {
        const result = await handle.append({ role: 'user', parts: [{ type: 'text', text }] });
        this.acks.push({ text, seq: result.seq, at: Date.now() });
      } catch (error) {
        this.errors.push({ url, message: (error as Error).message, at: Date.now() });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Acks that arrived after `t`. */
  acksAfter(t: number): Ack[] {
    return this.acks.filter((a) => a.at > t);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * Reads a context's whole history through `url` and checks it against what
 * was acknowledged: every acknowledged append exactly once, at the seq it was
 * acknowledged with, and seqs dense from 1. Returns the history's texts.
 */
export async function checkHistory(url: string, contextId: string, acks: readonly Ack[]): Promise<string[]> {
  const handle = client(url).contextHandle(contextId);
  const texts: string[] = [];
  const seqs: number[] = [];
  for await (const m of handle.history()) {
    seqs.push(m.seq);
    const part = m.parts[0] as { text?: string } | undefined;
    texts.push(part?.text ?? '');
  }
  const problems: string[] = [];
  seqs.forEach((seq, i) => {
    if (seq !== i + 1) problems.push(`seq ${seq} at position ${i + 1}`);
  });
  const where = new Map<string, number[]>();
  for (const [i, t] of texts.entries()) where.set(t, [...(where.get(t) ?? []), i + 1]);
  for (const ack of acks) {
    const at = where.get(ack.text) ?? [];
    if (at.length === 0) problems.push(`acknowledged ${ack.text} (seq ${ack.seq}) is missing`);
    else if (at.length > 1) problems.push(`${ack.text} appears ${at.length} times (seqs ${at.join(', ')})`);
    else if (at[0] !== ack.seq)
      problems.push(`${ack.text} was acknowledged as seq ${ack.seq} but is at ${at[0]}`);
  }
  for (const [t, at] of where)
    if (at.length > 1 && !acks.some((a) => a.text === t)) problems.push(`${t} twice`);
  if (problems.length > 0)
    throw new Error(`history of ${contextId} via ${url}:\n  ${problems.slice(0, 20).join('\n  ')}`);
  return texts;
}

/** A short account of the cluster as `url` sees it, for failure messages. */
export async function describeCluster(url: string): Promise<string> {
  try {
    const v = await view(url);
    const nodes = v.nodes.map(
      (n) => `${n.name} ${n.state}/${n.status} led=${n.groups_led} replicated=${n.groups_replicated}`,
    );
    const unsettled = v.groups.filter(
      (g) => g.leader === null || g.replicas.length !== 3 || g.replicas.some((r) => r.role !== 'voter'),
    );
    const sample = unsettled
      .slice(0, 8)
      .map((g) => `${g.group}: leader=${g.leader} ${g.replicas.map((r) => `${r.node}:${r.role}`).join(',')}`);
    return [
      `as ${v.node} sees it; coordinator ${v.coordinator}`,
      ...nodes,
      `${unsettled.length} unsettled groups`,
      ...sample,
    ].join('\n');
  } catch (error) {
    return `no view from ${url}: ${(error as Error).message}`;
  }
}
