import type { GroupId } from '../../raft/index.js';
import { ReplicationError } from '../errors.js';

interface ProposalWaiter {
  readonly term: number;
  readonly startedAt: number;
  readonly deadline: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: ReplicationError) => void;
}

interface ReadWaiter {
  readonly group: GroupId;
  /** Set once the leader confirmed the read; served when applied reaches it. */
  index: number | undefined;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: ReplicationError) => void;
}

/**
 * Proposals and linearizable reads waiting on this node. Every request added
 * here settles exactly once: when its entry applies (or another entry takes
 * its index), when its read is served, at its deadline, or when the node
 * stops. Nothing is ever dropped without an answer.
 */
export class PendingRequests {
  private readonly proposals = new Map<GroupId, Map<number, ProposalWaiter>>();
  private readonly reads = new Map<string, ReadWaiter>();

  constructor(
    private readonly onCommitted?: (ms: number) => void,
    /** Test-only bug switch: answer a proposal with whatever entry applies at its index. */
    private readonly matchByIndexOnly = false,
  ) {}

  /** Waits for the entry proposed at (index, term) to apply here; resolves with what the state machine returned. */
  addProposal(group: GroupId, index: number, term: number, now: number, deadline: number): Promise<unknown> {
    let byIndex = this.proposals.get(group);
    if (!byIndex) {
      byIndex = new Map();
      this.proposals.set(group, byIndex);
    }
    const previous = byIndex.get(index);
    if (previous) {
      // This node lost leadership, its log was cut at `index`, and it leads again: the old entry is gone
      // from the leader's log, so it can never commit.
      byIndex.delete(index);
      previous.reject(overwritten(group));
    }
    return new Promise((resolve, reject) => {
      byIndex.set(index, { term, startedAt: now, deadline, resolve, reject });
    });
  }

  /** The entry at (index, term) applied with `result`. */
  applied(group: GroupId, index: number, term: number, result: unknown, now: number): void {
    const byIndex = this.proposals.get(group);
    const w = byIndex?.get(index);
    if (!w || !byIndex) return;
    byIndex.delete(index);
    if (w.term === term || this.matchByIndexOnly) {
      this.onCommitted?.(now - w.startedAt);
      w.resolve(result);
    } else {
      w.reject(overwritten(group));
    }
  }

  /** A leader's snapshot replaced the log up to `index`: whether those proposals applied is unknown here. */
  supersededThrough(group: GroupId, index: number, why: string): void {
    const byIndex = this.proposals.get(group);
    if (!byIndex) return;
    for (const [i, w] of byIndex) {
      if (i > index) continue;
      byIndex.delete(i);
      w.reject(
        new ReplicationError('superseded', group, `group ${group} ${why}; outcome unknown`, 'unknown'),
      );
    }
  }

  addRead(group: GroupId, ctx: string, deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.reads.set(ctx, { group, index: undefined, deadline, resolve, reject });
    });
  }

  /** The leader confirmed the read `ctx` at `index`. */
  readConfirmed(ctx: string, index: number): void {
    const r = this.reads.get(ctx);
    if (r) r.index = index;
  }

  /** Serves the group's confirmed reads whose index is applied. */
  serveReads(group: GroupId, applied: number): void {
    for (const [ctx, r] of this.reads) {
      if (r.group !== group || r.index === undefined || r.index > applied) continue;
      this.reads.delete(ctx);
      r.resolve();
    }
  }

  /** Reads not yet confirmed can no longer be (leadership moved): they fail, and the caller retries. */
  failUnconfirmedReads(group: GroupId, why: string): void {
    for (const [ctx, r] of this.reads) {
      if (r.group !== group || r.index !== undefined) continue;
      this.reads.delete(ctx);
      r.reject(new ReplicationError('not_leader', group, `group ${group}: ${why}`));
    }
  }

  /** Everything of one group (its replica left this node). */
  failGroup(group: GroupId, why: string): void {
    this.supersededThrough(group, Number.POSITIVE_INFINITY, why);
    this.proposals.delete(group);
    for (const [ctx, r] of this.reads) {
      if (r.group !== group) continue;
      this.reads.delete(ctx);
      r.reject(new ReplicationError('superseded', group, `group ${group} ${why}`));
    }
  }

  /**
   * Fails requests past their deadline. One sweep per tick instead of a timer
   * per request keeps the hot path free of timer churn.
   */
  expire(now: number, timeoutMs: number, onTimeout?: () => void): void {
    for (const [group, byIndex] of this.proposals) {
      for (const [index, w] of byIndex) {
        if (w.deadline > now) continue;
        byIndex.delete(index);
        onTimeout?.();
        w.reject(
          new ReplicationError(
            'timeout',
            group,
            `group ${group} did not commit in ${timeoutMs} ms; outcome unknown`,
            'unknown',
          ),
        );
      }
    }
    for (const [ctx, r] of this.reads) {
      if (r.deadline > now) continue;
      this.reads.delete(ctx);
      r.reject(
        new ReplicationError(
          'timeout',
          r.group,
          `group ${r.group} could not confirm a linearizable read in time`,
        ),
      );
    }
  }

  /** Fails everything (the node stops or its storage failed); proposals end with outcome unknown. */
  failAll(kind: 'stopping' | 'storage_failed', message: string): void {
    for (const [group, byIndex] of this.proposals) {
      for (const w of byIndex.values()) w.reject(new ReplicationError(kind, group, message, 'unknown'));
    }
    this.proposals.clear();
    for (const r of this.reads.values()) r.reject(new ReplicationError(kind, r.group, message));
    this.reads.clear();
  }

  /** Requests still waiting (tests and metrics). */
  size(): number {
    let n = this.reads.size;
    for (const byIndex of this.proposals.values()) n += byIndex.size;
    return n;
  }
}

function overwritten(group: GroupId): ReplicationError {
  return new ReplicationError(
    'overwritten',
    group,
    `group ${group} changed leader before the write committed; retry`,
  );
}
