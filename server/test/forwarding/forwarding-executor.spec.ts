import { describe, expect, it } from 'vitest';
import type { AppendCommand, ContextCommand } from '../../src/context/commands.js';
import type { Applied } from '../../src/context/index.js';
import {
  FORWARD_METHODS,
  ForwardingExecutor,
  type Routing,
} from '../../src/forwarding/forwarding-executor.js';
import type { LocalExecutor } from '../../src/node/context-executor.js';
import { RpcError } from '../../src/node-link/rpc.js';
import type { GroupId, NodeId } from '../../src/raft/types.js';
import { ReplicationError } from '../../src/replication/errors.js';
import type { RaftHost } from '../../src/replication/host/raft-host.js';
import { systemRuntime } from '../../src/util/runtime.js';

/**
 * The forwarding executor's retry rules, against a scripted cluster: what is
 * retried where, and above all what is never retried (a command whose
 * outcome is unknown and that would apply twice).
 */
type Answer = (node: NodeId) => unknown;

class ScriptedCluster implements Routing {
  readonly self = 'me';
  readonly calls: { node: NodeId; method: string }[] = [];
  leader: NodeId | undefined = 'a';
  up = new Set<NodeId>(['a', 'b', 'c']);
  refusal: string | undefined;

  constructor(private readonly answers: Answer[]) {}

  leaderNodeOf(): NodeId | undefined {
    return this.leader;
  }
  voterNodesOf(): NodeId[] {
    return ['a', 'b', 'c'];
  }
  isUp(node: NodeId): boolean {
    return this.up.has(node);
  }
  refusalReason(): string | undefined {
    return this.refusal;
  }
  async call<T>(node: NodeId, method: string): Promise<T> {
    this.calls.push({ node, method });
    const answer = (this.answers.shift() ?? (() => ({ value: 'ok', events: [] })))(node);
    if (answer instanceof Error) throw answer;
    return answer as T;
  }
}

/** A node that hosts no replica of the group: everything goes over the link. */
const remoteOnly = {
  isLeader: () => false,
  hosts: () => false,
  status: () => undefined,
} as unknown as RaftHost;
const noLocal = {
  execute: () => Promise.reject(new Error('not local')),
  read: () => Promise.reject(new Error('not local')),
} as unknown as LocalExecutor;

const GROUP: GroupId = 7;
const append = (key?: string): AppendCommand => ({
  type: 'append',
  id: 'ctx',
  at: 1,
  messages: [],
  ...(key !== undefined && { idempotency_key: key }),
});

function executor(cluster: ScriptedCluster, timeout_ms = 2_000): ForwardingExecutor {
  return new ForwardingExecutor({
    local: noLocal,
    host: remoteOnly,
    routing: cluster,
    runtime: systemRuntime,
    timeout_ms,
  });
}

const notSent = (node: NodeId) => new RpcError('not_sent', node, `${node} not reachable`);
const silent = (node: NodeId) => new RpcError('no_answer', node, `${node} went silent`);

describe('forwarding executor – what is retried, and where', () => {
  it('sends a command to the leader it knows', async () => {
    const cluster = new ScriptedCluster([]);
    const result = (await executor(cluster).execute(GROUP, append())) as Applied<unknown>;
    expect(result).toMatchObject({ value: 'ok' });
    expect(cluster.calls).toEqual([{ node: 'a', method: FORWARD_METHODS.execute }]);
  });

  it('follows the leader a refusal names', async () => {
    const cluster = new ScriptedCluster([
      () => new ReplicationError('not_leader', GROUP, 'not me', 'not_applied', 'c~1/4'),
    ]);
    await executor(cluster).execute(GROUP, append());
    expect(cluster.calls.map((c) => c.node)).toEqual(['a', 'c~1']);
  });

  it('retries a command that was never sent on another voter', async () => {
    const cluster = new ScriptedCluster([notSent]);
    await executor(cluster).execute(GROUP, append());
    expect(cluster.calls.map((c) => c.node)).toEqual(['a', 'b']);
  });

  it('never retries a command of unknown outcome that would apply twice', async () => {
    for (const command of [
      append(),
      { type: 'compact', id: 'ctx', at: 1, replacement: [] } as ContextCommand,
    ]) {
      const cluster = new ScriptedCluster([silent]);
      const error = await executor(cluster)
        .execute(GROUP, command)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplicationError);
      expect(error).toMatchObject({ kind: 'timeout', outcome: 'unknown' });
      expect(cluster.calls).toHaveLength(1);
    }
  });

  it.each(['superseded', 'stopping'] as const)(
    'never retries a command the leader reports %s with an unknown outcome, unless its key makes it safe',
    async (kind) => {
      const unknown = () => new ReplicationError(kind, GROUP, `${kind} after it was appended`, 'unknown');
      const cluster = new ScriptedCluster([unknown]);
      await expect(executor(cluster).execute(GROUP, append())).rejects.toMatchObject({
        kind,
        outcome: 'unknown',
      });
      expect(cluster.calls).toHaveLength(1);

      const keyed = new ScriptedCluster([unknown]);
      await executor(keyed).execute(GROUP, append('key-2'));
      expect(keyed.calls).toHaveLength(2);

      const neverApplied = new ScriptedCluster([
        () => new ReplicationError(kind, GROUP, 'not taken', 'not_applied'),
      ]);
      await executor(neverApplied).execute(GROUP, append());
      expect(neverApplied.calls).toHaveLength(2);
    },
  );

  it('retries an append of unknown outcome when its idempotency key makes a second attempt harmless', async () => {
    const cluster = new ScriptedCluster([silent]);
    await executor(cluster).execute(GROUP, append('key-1'));
    expect(cluster.calls.map((c) => c.node)).toEqual(['a', 'b']);
  });

  it('passes an answer that is final (a conflict) straight through, without retrying', async () => {
    const conflict = new Error('version mismatch');
    const cluster = new ScriptedCluster([() => conflict]);
    await expect(executor(cluster).execute(GROUP, append('k'))).rejects.toBe(conflict);
    expect(cluster.calls).toHaveLength(1);
  });

  it('gives up at the request timeout with the last error when no node can take it', async () => {
    const cluster = new ScriptedCluster(Array.from({ length: 1_000 }, () => notSent));
    const started = Date.now();
    const error = await executor(cluster, 300)
      .execute(GROUP, append('k'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(new Set(cluster.calls.map((c) => c.node))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('does not send to a node that is down', async () => {
    const cluster = new ScriptedCluster([]);
    cluster.up.delete('a');
    await executor(cluster).execute(GROUP, append());
    expect(cluster.calls.map((c) => c.node)).toEqual(['b']);
  });

  it('refuses at once while this node is out of the cluster', async () => {
    const cluster = new ScriptedCluster([]);
    cluster.refusal = 'this node was drained and removed';
    await expect(executor(cluster).execute(GROUP, append())).rejects.toMatchObject({
      code: 'unavailable',
      message: 'this node was drained and removed',
    });
    expect(cluster.calls).toEqual([]);
  });

  it('sends reads to a voter over the link when this node holds none', async () => {
    const cluster = new ScriptedCluster([() => ({ found: true })]);
    const value = await executor(cluster).read(GROUP, 'ctx', { type: 'get' } as never);
    expect(value).toEqual({ found: true });
    expect(cluster.calls).toEqual([{ node: 'a', method: FORWARD_METHODS.read }]);
  });
});
