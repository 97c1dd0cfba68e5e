import type { StreamEventFrame } from '@fastpaca/contract';
import { type Applied, type ContextCommand, ContextGroup } from '../context/index.js';
import type { GroupStateMachine, SnapshotSteps } from '../replication/host/state-machine.js';
import { plainPackr } from '../util/msgpack.js';

/** Commands travel through the log as msgpack; plain maps keep them readable by any replica version. */
const packr = plainPackr();

export function encodeCommand(command: ContextCommand): Uint8Array {
  return packr.pack(command);
}

export function decodeCommand(data: Uint8Array): ContextCommand {
  return packr.unpack(data) as ContextCommand;
}

export type EventSink = (contextId: string, frames: StreamEventFrame[]) => void;

/**
 * A Raft group's state machine: the contexts of that group. Applying a
 * command yields its result (for the proposer) and feeds its events to the
 * stream, so subscribers see exactly what was committed, in commit order.
 */
export class ContextMachine implements GroupStateMachine {
  contexts = new ContextGroup();

  constructor(
    readonly group: number,
    private readonly onEvents: EventSink,
    /** The state was replaced by a snapshot: `previous` is what it replaced. */
    private readonly onRestore?: (previous: ContextGroup, current: ContextGroup) => void,
  ) {}

  apply(data: Uint8Array): Applied<unknown> {
    const applied = this.contexts.apply(decodeCommand(data));
    if (applied.events.length > 0) {
      // One command touches one context, so its events are one version group.
      const contextId = applied.events[0]!.context_id;
      this.onEvents(
        contextId,
        applied.events.map((e) => e.frame),
      );
    }
    return applied;
  }

  snapshot(): Uint8Array {
    return this.contexts.snapshot();
  }

  snapshotEncoder(): SnapshotSteps {
    return this.contexts.snapshotEncoder();
  }

  restore(data: Uint8Array): void {
    const previous = this.contexts;
    this.contexts = ContextGroup.restore(data);
    this.onRestore?.(previous, this.contexts);
  }
}
