import { streamCloseCodes } from '@fastpaca/contract';
import type { RpcHandler } from '../node-link/rpc.js';
import type { NodeId } from '../raft/types.js';
import type { StreamHub, StreamSink, Subscription } from '../stream/stream-hub.js';
import {
  hubStream,
  type StreamOpenOptions,
  type StreamOpenOutcome,
  type StreamSource,
} from '../stream/stream-source.js';

/**
 * Streams for contexts whose group has no replica on the node the client
 * connected to: the subscription is opened on a node that holds one, with the
 * client's cursor, and its frames are relayed over the node link. The
 * replaying hub is the replica's, so the exactly-once and gap rules are its
 * rules; a relay that breaks closes the client's socket with `unavailable`
 * (it reconnects with its last version and loses nothing).
 */
export const STREAM_CHANNEL = 'stream';
export const STREAM_OPEN = 'stream.open';

type RelayMessage =
  | { ch: 'stream'; t: 'frames'; sub: number; d: string[] }
  | { ch: 'stream'; t: 'closed'; sub: number; code: number; reason: string }
  | { ch: 'stream'; t: 'pong'; sub: number }
  | { ch: 'stream'; t: 'close'; sub: number };

interface OpenRequest {
  sub: number;
  context_id: string;
  cursor?: number;
  include_messages: boolean;
  expires_at?: number;
}

type OpenReply = { ok: true; version: number } | { ok: false; reason: 'not_found' | 'gap' | 'tombstoned' };

interface LinkPort {
  send(node: NodeId, message: unknown): boolean;
  bufferedBytes(node: NodeId): number;
}

/** The client's side: subscriptions relayed from other nodes. */
export class StreamRelayClient implements StreamSource {
  private nextSub = 1;
  private readonly subs = new Map<number, { node: NodeId; sink: StreamSink }>();

  constructor(
    private readonly link: LinkPort,
    /** A node holding a voting replica of the context's group, up now. */
    private readonly pickNode: (contextId: string) => NodeId | undefined,
    private readonly call: <T>(node: NodeId, method: string, body: unknown, timeoutMs: number) => Promise<T>,
    private readonly timeoutMs: number,
  ) {}

  async open(contextId: string, options: StreamOpenOptions, sink: StreamSink): Promise<StreamOpenOutcome> {
    const node = this.pickNode(contextId);
    if (node === undefined) throw new Error(`no node holding ${contextId}'s group is reachable`);
    const sub = this.nextSub++;
    // Registered before the request: the replay's frames arrive ahead of the answer.
    this.subs.set(sub, { node, sink });
    let reply: OpenReply;
    try {
      reply = await this.call<OpenReply>(
        node,
        STREAM_OPEN,
        {
          sub,
          context_id: contextId,
          ...(options.cursor !== undefined && { cursor: options.cursor }),
          include_messages: options.includeMessages,
          ...(options.expiresAt !== undefined && { expires_at: options.expiresAt }),
        } satisfies OpenRequest,
        this.timeoutMs,
      );
    } catch (error) {
      this.subs.delete(sub);
      throw error;
    }
    if (!reply.ok) {
      this.subs.delete(sub);
      return reply;
    }
    return {
      ok: true,
      stream: {
        version: reply.version,
        pong: () => this.link.send(node, { ch: 'stream', t: 'pong', sub } satisfies RelayMessage),
        close: () => {
          if (this.subs.delete(sub))
            this.link.send(node, { ch: 'stream', t: 'close', sub } satisfies RelayMessage);
        },
      },
    };
  }

  connectionCount(): number {
    return this.subs.size;
  }

  /** A relay message from `from`. */
  receive(from: NodeId, message: unknown): void {
    const m = message as RelayMessage;
    const entry = this.subs.get(m.sub);
    if (!entry || entry.node !== from) return;
    if (m.t === 'frames') {
      for (const json of m.d) entry.sink.send(json);
    } else if (m.t === 'closed') {
      this.subs.delete(m.sub);
      entry.sink.close(m.code, m.reason);
    }
  }

  /** The link to `node` broke: its relays end, and their clients reconnect. */
  peerLost(node: NodeId): void {
    for (const [sub, entry] of this.subs) {
      if (entry.node !== node) continue;
      this.subs.delete(sub);
      entry.sink.close(streamCloseCodes.unavailable, 'the node relaying this stream went away; reconnect');
    }
  }
}

/** The replica's side: hub subscriptions whose frames go to another node. */
export class StreamRelayServer {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly hub: StreamHub,
    private readonly link: LinkPort,
    private readonly barrier: (contextId: string) => Promise<void>,
  ) {}

  handlers(): Record<string, RpcHandler> {
    return { [STREAM_OPEN]: (from, body) => this.open(from, body as OpenRequest) };
  }

  private async open(from: NodeId, r: OpenRequest): Promise<OpenReply> {
    await this.barrier(r.context_id);
    const key = `${from}|${r.sub}`;
    let subscription: Subscription | undefined;
    let dropped = false;
    const sink: StreamSink = {
      send: (json) => {
        if (dropped) return;
        if (this.link.send(from, { ch: 'stream', t: 'frames', sub: r.sub, d: [json] } satisfies RelayMessage))
          return;
        // A dropped frame would be a silent gap: end the stream instead, and the client resumes from its cursor.
        dropped = true;
        if (subscription) this.hub.unsubscribe(subscription);
        sink.close(streamCloseCodes.unavailable, 'the relay from a replica fell behind; reconnect');
      },
      bufferedBytes: () => this.link.bufferedBytes(from),
      close: (code, reason) => {
        this.subs.delete(key);
        this.link.send(from, { ch: 'stream', t: 'closed', sub: r.sub, code, reason } satisfies RelayMessage);
      },
    };
    const outcome = this.hub.subscribe(
      r.context_id,
      { cursor: r.cursor, includeMessages: r.include_messages, expiresAt: r.expires_at },
      sink,
    );
    if (!outcome.ok) return outcome;
    subscription = outcome.subscription;
    if (dropped) this.hub.unsubscribe(subscription);
    // Closed already during its replay (a slow consumer, a tombstone, a dropped frame): nothing to keep.
    else if (!subscription.closed) this.subs.set(key, subscription);
    return { ok: true, version: hubStream(this.hub, outcome.subscription).version };
  }

  receive(from: NodeId, message: unknown): void {
    const m = message as RelayMessage;
    const key = `${from}|${m.sub}`;
    const sub = this.subs.get(key);
    if (!sub) return;
    if (m.t === 'pong') this.hub.pong(sub);
    else if (m.t === 'close') {
      this.subs.delete(key);
      this.hub.unsubscribe(sub);
    }
  }

  /** The client's node is gone: its relayed subscriptions end here too. */
  peerLost(node: NodeId): void {
    for (const [key, sub] of this.subs) {
      if (!key.startsWith(`${node}|`)) continue;
      this.subs.delete(key);
      this.hub.unsubscribe(sub);
    }
  }
}

/** Serves a stream from this node's hub when it holds a voter of the group, else relays it. */
export class RoutedStreamSource implements StreamSource {
  constructor(
    private readonly local: StreamSource,
    private readonly relay: StreamRelayClient,
    private readonly servesLocally: (contextId: string) => boolean,
  ) {}

  open(contextId: string, options: StreamOpenOptions, sink: StreamSink): Promise<StreamOpenOutcome> {
    return this.servesLocally(contextId)
      ? this.local.open(contextId, options, sink)
      : this.relay.open(contextId, options, sink);
  }

  connectionCount(): number {
    return this.local.connectionCount() + this.relay.connectionCount();
  }
}
