import { ContextGroup } from '../context/index.js';
import { groupOf } from '../placement/groups.js';
import type { GroupId } from '../raft/types.js';
import type { ContextStatus, StreamHub } from '../stream/stream-hub.js';
import { ContextMachine } from './context-machine.js';

/**
 * The context state machines of the groups this node holds a replica of,
 * created when a replica is (founded, loaded, or added) and dropped when it
 * leaves. What they apply feeds the stream hub; a snapshot that replaces a
 * group's state resets its subscribers.
 */
export class ContextMachines {
  private readonly machines = new Map<GroupId, ContextMachine>();

  constructor(private readonly hub: StreamHub) {}

  /** The group's machine, created empty if this node has none yet. */
  get(group: GroupId): ContextMachine {
    let machine = this.machines.get(group);
    if (!machine) {
      machine = new ContextMachine(
        group,
        (contextId, frames) => this.hub.publish(contextId, frames),
        (previous, current) => {
          const ids = new Set([...previous.contextIds(), ...current.contextIds()]);
          for (const id of ids) this.hub.reset(id);
        },
      );
      this.machines.set(group, machine);
    }
    return machine;
  }

  /** The contexts of a group held here; an empty set when none is. */
  contexts(group: GroupId): ContextGroup {
    return this.machines.get(group)?.contexts ?? EMPTY;
  }

  /** The replica left this node: its subscribers reconnect (to a node that relays it). */
  drop(group: GroupId): void {
    const machine = this.machines.get(group);
    if (!machine) return;
    this.machines.delete(group);
    for (const id of machine.contexts.contextIds()) {
      this.hub.closeContext(id, 'going_away', 'this node no longer holds the context; reconnect');
    }
  }

  /** Version and status of a context on this node, for the stream hub. */
  statusOf(contextId: string): ContextStatus | undefined {
    const view = this.machines.get(groupOf(contextId))?.contexts.getContext(contextId);
    return view ? { version: view.version, tombstoned: view.status === 'tombstoned' } : undefined;
  }
}

const EMPTY = new ContextGroup();
