import type { Applied, ContextCommand, ContextGroup } from '../context/index.js';
import type { GroupId } from '../raft/types.js';
import type { Replicator } from '../replication/replicator.js';
import { encodeCommand } from './context-machine.js';
import { type ContextRead, runRead } from './context-reads.js';

/**
 * Where the API's commands and reads run: on this node's replica of the
 * context's group (`LocalExecutor`), or wherever the group's leader or a
 * replica is (forwarding/). Failures are `ReplicationError`s.
 */
export interface ContextExecutor {
  /** Commits a command in the group and returns what applying it gave. */
  execute(group: GroupId, command: ContextCommand): Promise<Applied<unknown>>;
  /** A linearizable read of one context; undefined when it does not exist. */
  read(group: GroupId, contextId: string, read: ContextRead): Promise<unknown>;
}

/** Runs everything on this node's replicas: a single node, or the local half of forwarding. */
export class LocalExecutor implements ContextExecutor {
  constructor(
    private readonly replicator: Replicator,
    /** The state machine of a group on this node (it is replaced on snapshot restore). */
    private readonly contexts: (group: GroupId) => ContextGroup | undefined,
    /** Test-only planted bug: read this replica's state without the ReadIndex barrier. */
    private readonly staleReadsForTesting = false,
  ) {}

  async execute(group: GroupId, command: ContextCommand): Promise<Applied<unknown>> {
    return (await this.replicator.propose(group, encodeCommand(command))) as Applied<unknown>;
  }

  async read(group: GroupId, contextId: string, read: ContextRead): Promise<unknown> {
    if (!this.staleReadsForTesting) await this.replicator.readBarrier(group);
    const contexts = this.contexts(group);
    return contexts && runRead(contexts, contextId, read);
  }
}
