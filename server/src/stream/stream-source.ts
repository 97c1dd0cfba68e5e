import type { StreamHub, StreamSink, Subscription } from './stream-hub.js';

export interface StreamOpenOptions {
  readonly cursor: number | undefined;
  readonly includeMessages: boolean;
  /** When the scoped token the connection was opened with expires (epoch ms). */
  readonly expiresAt?: number | undefined;
}

/** An open subscription, wherever its events come from. */
export interface OpenStream {
  readonly version: number;
  /** The client answered a ping. */
  pong(): void;
  /** The client went away. */
  close(): void;
}

/**
 * `not_found`, `gap` and `tombstoned` were already told to the client (an
 * error frame or a close through the sink); the caller only logs them.
 */
export type StreamOpenOutcome =
  | { readonly ok: true; readonly stream: OpenStream }
  | { readonly ok: false; readonly reason: 'not_found' | 'gap' | 'tombstoned' };

/**
 * Where a websocket subscription's events come from: this node's hub when it
 * holds a replica of the context's group, or a relay from a node that does.
 * `open` throws when the node cannot serve the context now.
 */
export interface StreamSource {
  open(contextId: string, options: StreamOpenOptions, sink: StreamSink): Promise<StreamOpenOutcome>;
  /** Subscriptions this node serves, relayed ones included (the per-node connection cap counts them). */
  connectionCount(): number;
}

/** Subscriptions to this node's hub, after a linearizable barrier on the context's group. */
export class LocalStreamSource implements StreamSource {
  constructor(
    private readonly hub: StreamHub,
    private readonly barrier: (contextId: string) => Promise<void>,
  ) {}

  async open(contextId: string, options: StreamOpenOptions, sink: StreamSink): Promise<StreamOpenOutcome> {
    await this.barrier(contextId);
    const outcome = this.hub.subscribe(contextId, options, sink);
    if (!outcome.ok) return outcome;
    return { ok: true, stream: hubStream(this.hub, outcome.subscription) };
  }

  connectionCount(): number {
    return this.hub.connectionCount();
  }
}

export function hubStream(hub: StreamHub, sub: Subscription): OpenStream {
  return {
    version: sub.version,
    pong: () => hub.pong(sub),
    close: () => hub.unsubscribe(sub),
  };
}
