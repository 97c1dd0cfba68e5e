import type { Applied } from '../context/index.js';
import type { LocalExecutor } from '../node/context-executor.js';
import type { RpcHandler } from '../node-link/rpc.js';
import { ReplicationError } from '../replication/errors.js';
import type { RaftHost } from '../replication/host/raft-host.js';
import { type ExecuteRequest, FORWARD_METHODS, type ReadRequest } from './forwarding-executor.js';
import type { ForwardingMetrics } from './metrics.js';

/**
 * The serving side of forwarding: a command runs here only if this node leads
 * the group (else the caller learns who does), a read only if it holds a
 * replica. Only the version's `context` frame travels back with a command's
 * result (the caller's metrics read it); subscribers get events from the
 * replicas that apply them.
 */
export function forwardingHandlers(
  local: LocalExecutor,
  host: RaftHost,
  metrics?: ForwardingMetrics,
): Record<string, RpcHandler> {
  return {
    [FORWARD_METHODS.execute]: async (_from, body) => {
      const { group, command } = body as ExecuteRequest;
      if (!host.isLeader(group)) {
        throw new ReplicationError(
          'not_leader',
          group,
          `group ${group} is not led by this node`,
          'not_applied',
          host.leaderOf(group),
        );
      }
      metrics?.servedFor('execute');
      const applied = await local.execute(group, command);
      return {
        result: applied.result,
        events: applied.events.filter((e) => e.frame.type === 'context'),
      } satisfies Applied<unknown>;
    },
    [FORWARD_METHODS.read]: async (_from, body) => {
      const { group, context_id, read } = body as ReadRequest;
      if (!host.hosts(group)) {
        throw new ReplicationError('unknown_group', group, `group ${group} has no replica on this node`);
      }
      metrics?.servedFor('read');
      return local.read(group, context_id, read);
    },
  };
}
