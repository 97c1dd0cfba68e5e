import type { AppendCommand, Applied, ContextCommand } from '../context/index.js';
import { AppError } from '../errors/app-error.js';
import type { ContextExecutor, LocalExecutor } from '../node/context-executor.js';
import type { ContextRead } from '../node/context-reads.js';
import type { PlantedBugs } from '../node/planted-bugs.js';
import { RpcError } from '../node-link/rpc.js';
import type { GroupId, NodeId } from '../raft/types.js';
import { ReplicationError } from '../replication/errors.js';
import type { RaftHost } from '../replication/host/raft-host.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import type { Runtime } from '../util/runtime.js';
import type { ForwardingMetrics } from './metrics.js';

/** What forwarding needs to know about the cluster (membership/). */
export interface Routing {
  readonly self: NodeId;
  /** The node leading `group` as far as this node knows. */
  leaderNodeOf(group: GroupId): NodeId | undefined;
  /** The nodes holding voters of `group`. */
  voterNodesOf(group: GroupId): NodeId[];
  isUp(node: NodeId): boolean;
  /** Why this node must refuse API requests now (removed, not yet in a cluster). */
  refusalReason(): string | undefined;
  call<T>(node: NodeId, method: string, body: unknown, timeoutMs: number): Promise<T>;
}

export const FORWARD_METHODS = { execute: 'ctx.execute', read: 'ctx.read' } as const;

export interface ForwardingOptions {
  local: LocalExecutor;
  host: RaftHost;
  routing: Routing;
  runtime: Runtime;
  /** How long one request may take, retries included (FASTPACA_REQUEST_TIMEOUT_MS). */
  timeout_ms: number;
  /** The longest one attempt on another node may take. */
  attempt_ms?: number;
  metrics?: ForwardingMetrics;
  /** Test-only: retry a forwarded command whose outcome is unknown even without an idempotency key. */
  retryUnsafeForTesting?: boolean;
  /** Test-only: bugs planted for the chaos suite (`stale_follower_reads`, `forward_retry_without_key`). */
  planted?: PlantedBugs;
}

/** Pause between attempts while a group has no leader (an election takes a few hundred ms). */
const BACKOFF_MS = 40;

/**
 * Runs a context's commands on its group's leader and its reads on a replica,
 * wherever they are: on this node when it holds them, else over the node link.
 * A command the leader never received, or refused without applying, is tried
 * again (on the leader it names, or another replica) until the request
 * timeout; one whose outcome is unknown (the leader went silent after taking
 * it) is tried again only when applying it twice changes nothing, i.e. an
 * append with its idempotency key: the key travels with it, so the leader's
 * idempotency cache answers a second attempt with the first one's result.
 * Tokens and timestamps were fixed by the node that took the request, so a
 * retry is the same command.
 */
export class ForwardingExecutor implements ContextExecutor {
  constructor(private readonly o: ForwardingOptions) {}

  async execute(group: GroupId, command: ContextCommand): Promise<Applied<unknown>> {
    this.refuseIfOut();
    const dropKey = this.o.planted?.forward_retry_without_key === true;
    const safe = retrySafe(command) || this.o.retryUnsafeForTesting === true || dropKey;
    let attempts = 0;
    let sent = command;
    return this.withRetries(group, 'execute', safe, async (target, timeoutMs) => {
      // The planted bug: every attempt after the first forgets the idempotency key.
      if (dropKey && attempts++ > 0 && sent.type === 'append') sent = withoutKey(sent);
      if (target === this.o.routing.self) return this.o.local.execute(group, sent);
      return this.o.routing.call<Applied<unknown>>(
        target,
        FORWARD_METHODS.execute,
        { group, command: sent } satisfies ExecuteRequest,
        timeoutMs,
      );
    });
  }

  async read(group: GroupId, contextId: string, read: ContextRead): Promise<unknown> {
    this.refuseIfOut();
    return this.withRetries(group, 'read', true, async (target, timeoutMs) => {
      if (target === this.o.routing.self) return this.o.local.read(group, contextId, read);
      return this.o.routing.call<unknown>(
        target,
        FORWARD_METHODS.read,
        { group, context_id: contextId, read } satisfies ReadRequest,
        timeoutMs,
      );
    });
  }

  private refuseIfOut(): void {
    const reason = this.o.routing.refusalReason();
    if (reason) throw new AppError('unavailable', reason, undefined, 1);
  }

  /**
   * Tries `attempt` on the best node until it succeeds, fails for good, or the
   * request's time is up. `target` is a node id (this node's for local).
   */
  private async withRetries<T>(
    group: GroupId,
    kind: 'execute' | 'read',
    unknownIsRetryable: boolean,
    attempt: (target: NodeId, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const { runtime } = this.o;
    const deadline = runtime.now() + this.o.timeout_ms;
    const avoid = new Set<NodeId>();
    let hint: NodeId | undefined;
    let last: Error | undefined;
    for (let round = 0; ; round++) {
      const remaining = deadline - runtime.now();
      if (remaining <= 0) break;
      const target = this.pick(group, kind, hint, avoid);
      hint = undefined;
      if (target === undefined) {
        avoid.clear();
        last ??= new ReplicationError('not_leader', group, `group ${group} has no leader yet; retry`);
        await sleep(runtime, Math.min(BACKOFF_MS, remaining));
        continue;
      }
      const remote = target !== this.o.routing.self;
      try {
        const value = await attempt(target, Math.min(remaining, this.o.attempt_ms ?? 5_000));
        if (remote) this.o.metrics?.forwarded(kind, 'ok');
        return value;
      } catch (error) {
        const verdict = classify(error, unknownIsRetryable);
        if (remote) this.o.metrics?.forwarded(kind, verdict.retry ? 'retried' : 'failed');
        if (!verdict.retry) throw verdict.error;
        last = verdict.error;
        if (verdict.leader && verdict.leader !== target) hint = verdict.leader;
        else avoid.add(target);
        if (verdict.wait || round > 2)
          await sleep(runtime, Math.min(BACKOFF_MS, Math.max(0, deadline - runtime.now())));
      }
    }
    throw (
      last ??
      new ReplicationError(
        'timeout',
        group,
        `group ${group}: no answer in ${this.o.timeout_ms} ms`,
        'unknown',
      )
    );
  }

  /** Where to send the next attempt: the leader (named by a hint, or known), else a voter not tried yet. */
  private pick(
    group: GroupId,
    kind: 'execute' | 'read',
    hint: NodeId | undefined,
    avoid: Set<NodeId>,
  ): NodeId | undefined {
    const { routing, host } = this.o;
    if (hint !== undefined && !avoid.has(hint)) return hint;
    // A read needs a replica that votes (a learner may be far behind); a local voter serves it through ReadIndex.
    if (kind === 'read' && !avoid.has(routing.self) && this.holdsVoter(group)) return routing.self;
    // The planted bug: any local replica serves reads (the local executor skips ReadIndex too).
    if (kind === 'read' && this.o.planted?.stale_follower_reads && host.hosts(group)) return routing.self;
    if (host.isLeader(group)) return routing.self;
    const leader = routing.leaderNodeOf(group);
    if (leader !== undefined && !avoid.has(leader) && routing.isUp(leader)) return leader;
    return routing.voterNodesOf(group).find((n) => !avoid.has(n) && routing.isUp(n));
  }

  private holdsVoter(group: GroupId): boolean {
    const s = this.o.host.hosts(group) ? this.o.host.status(group) : undefined;
    return s?.conf.voters.includes(s.id) === true;
  }
}

export interface ExecuteRequest {
  readonly group: GroupId;
  readonly command: ContextCommand;
}

export interface ReadRequest {
  readonly group: GroupId;
  readonly context_id: string;
  readonly read: ContextRead;
}

function withoutKey(command: AppendCommand): AppendCommand {
  const { idempotency_key: _dropped, ...rest } = command;
  return rest;
}

/** Whether applying `command` twice leaves the same state and answer as once. */
function retrySafe(command: ContextCommand): boolean {
  return command.type === 'append' && command.idempotency_key !== undefined;
}

interface Verdict {
  readonly retry: boolean;
  readonly error: Error;
  /** The node the error names as the leader. */
  readonly leader?: NodeId;
  /** Pause before the next attempt (an election or a membership change is under way). */
  readonly wait?: boolean;
}

function classify(error: unknown, unknownIsRetryable: boolean): Verdict {
  if (error instanceof RpcError) {
    if (error.kind === 'not_sent') return { retry: true, error, wait: true };
    const unknown = new ReplicationError(
      'timeout',
      undefined,
      `node ${error.node} took the request and went silent; it may have been applied`,
      'unknown',
    );
    return { retry: unknownIsRetryable, error: unknown, wait: true };
  }
  if (error instanceof ReplicationError) {
    const leader = error.leader === null ? undefined : nodeOfReplica(error.leader);
    switch (error.kind) {
      case 'not_leader':
        return leader === undefined ? { retry: true, error, wait: true } : { retry: true, error, leader };
      case 'busy':
      case 'unknown_group':
        return { retry: true, error, wait: true };
      // A proposal superseded (a snapshot or a removal overtook it) or cut off by shutdown may have committed.
      case 'superseded':
      case 'stopping':
        return { retry: error.outcome === 'not_applied' || unknownIsRetryable, error, wait: true };
      case 'overwritten':
        return { retry: true, error };
      case 'timeout':
        return { retry: error.outcome === 'not_applied' || unknownIsRetryable, error, wait: true };
      default:
        return { retry: false, error };
    }
  }
  return { retry: false, error: error instanceof Error ? error : new Error(String(error)) };
}

function sleep(runtime: Runtime, ms: number): Promise<void> {
  return new Promise((resolve) => runtime.setTimer(ms, resolve));
}
