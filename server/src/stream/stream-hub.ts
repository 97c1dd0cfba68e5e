import { type StreamEventFrame, streamCloseCodes } from '@fastpaca/contract';
import { VersionGroup } from './encoded-group.js';
import { ReplayBuffer } from './replay-buffer.js';

/** Where a subscription's frames go: a websocket in production. */
export interface StreamSink {
  send(json: string): void;
  /**
   * Optional fast path: complete websocket text frames, shared by every
   * subscriber of a version (never modify them). Sinks without it get `send`
   * once per frame.
   */
  sendFramed?(wire: Buffer): void;
  /** Bytes queued in the socket and not yet written to the network. */
  bufferedBytes(): number;
  close(code: number, reason: string): void;
}

export interface ContextStatus {
  version: number;
  tombstoned: boolean;
}

export interface StreamHubOptions {
  replay_versions_per_context_max: number;
  replay_frames_total_max: number;
  /** Estimated bytes the replay buffer may hold (see `VersionGroup.bytes`). */
  replay_bytes_total_max: number;
  send_buffer_bytes_max: number;
  ping_interval_ms: number;
  pong_timeout_ms: number;
  now: () => number;
  /** Current state of a context on this node, or undefined when it does not exist. */
  statusOf: (contextId: string) => ContextStatus | undefined;
  onFramesSent?: (count: number) => void;
  onClosed?: (reason: keyof typeof streamCloseCodes) => void;
}

export interface Subscription {
  readonly contextId: string;
  readonly includeMessages: boolean;
  /** Last version fully delivered to this subscriber. */
  version: number;
  lastPongAt: number;
  /** When the scoped token the connection was opened with expires (epoch ms); undefined for the API key. */
  expiresAt: number | undefined;
  closed: boolean;
  readonly sink: StreamSink;
}

export type SubscribeOutcome =
  | { ok: true; subscription: Subscription }
  | { ok: false; reason: 'not_found' | 'gap' | 'tombstoned' };

/**
 * Fans committed events out to websocket subscribers.
 *
 * `publish` is called synchronously when a command is applied, and `subscribe`
 * replays synchronously before registering the subscriber as live. Both run on
 * the event loop, so nothing can be applied between replay and going live:
 * that is what makes replay→live free of gaps and duplicates.
 */
export class StreamHub {
  private readonly replay: ReplayBuffer;
  private readonly byContext = new Map<string, Set<Subscription>>();
  private count = 0;

  constructor(private readonly options: StreamHubOptions) {
    this.replay = new ReplayBuffer(
      options.replay_versions_per_context_max,
      options.replay_frames_total_max,
      options.replay_bytes_total_max,
    );
  }

  connectionCount(): number {
    return this.count;
  }

  replayFrameCount(): number {
    return this.replay.frameCount();
  }

  replayBytes(): number {
    return this.replay.byteCount();
  }

  /** Events of one applied command; they share one version. */
  publish(contextId: string, events: readonly StreamEventFrame[]): void {
    if (events.length === 0) return;
    const group = new VersionGroup(events);
    this.replay.append(contextId, group);
    const subs = this.byContext.get(contextId);
    if (!subs) return;
    for (const sub of subs) this.deliver(sub, group);
  }

  subscribe(
    contextId: string,
    options: { cursor: number | undefined; includeMessages: boolean; expiresAt?: number | undefined },
    sink: StreamSink,
  ): SubscribeOutcome {
    const status = this.options.statusOf(contextId);
    if (!status) return { ok: false, reason: 'not_found' };
    const sub: Subscription = {
      contextId,
      includeMessages: options.includeMessages,
      version: status.version,
      lastPongAt: this.options.now(),
      expiresAt: options.expiresAt,
      closed: false,
      sink,
    };
    const cursor = options.cursor;
    if (cursor !== undefined && cursor > status.version) {
      // The client knows a future we do not: it must drop what it has.
      this.sendRaw(sub, JSON.stringify({ type: 'reset', version: status.version }));
    } else if (cursor !== undefined && cursor < status.version) {
      const oldest = this.replay.oldestVersion(contextId) ?? status.version + 1;
      if (cursor + 1 < oldest) {
        this.sendRaw(
          sub,
          JSON.stringify({ type: 'gap', version: status.version, expected: cursor + 1, actual: oldest }),
        );
        this.closeSub(sub, 'gap', 'cursor older than the replay buffer; fetch /messages and reconnect');
        return { ok: false, reason: 'gap' };
      }
      sub.version = cursor;
      // A replay is one burst, which the socket's own check does not count; bound it
      // here so a reconnecting client cannot queue the whole buffer at once.
      let replayed = 0;
      for (const group of this.replay.after(contextId, cursor)) {
        this.deliver(sub, group);
        if (sub.closed) return { ok: true, subscription: sub };
        const encoded = group.encoded;
        replayed += sub.includeMessages ? encoded.wire.length : encoded.wireWithoutMessages.length;
        if (replayed > this.options.send_buffer_bytes_max && sub.version < status.version) {
          this.closeSub(
            sub,
            'slow_consumer',
            'replay exceeds the send buffer; reconnect from your last version',
          );
          return { ok: true, subscription: sub };
        }
      }
    }
    if (status.tombstoned) {
      // A client that already has the tombstone version is not told twice.
      if (cursor === undefined || sub.version < status.version) {
        this.sendRaw(sub, JSON.stringify({ type: 'tombstoned', version: status.version }));
      }
      this.closeSub(sub, 'normal', 'tombstoned');
      return { ok: false, reason: 'tombstoned' };
    }
    let subs = this.byContext.get(contextId);
    if (!subs) {
      subs = new Set();
      this.byContext.set(contextId, subs);
    }
    subs.add(sub);
    this.count++;
    return { ok: true, subscription: sub };
  }

  /** Called when the socket closed for any reason. */
  unsubscribe(sub: Subscription): void {
    const subs = this.byContext.get(sub.contextId);
    if (subs?.delete(sub)) {
      this.count--;
      if (subs.size === 0) this.byContext.delete(sub.contextId);
    }
    sub.closed = true;
  }

  pong(sub: Subscription): void {
    sub.lastPongAt = this.options.now();
  }

  /** Heartbeat pass: ping everyone, close those silent past the timeout. */
  heartbeat(): void {
    const now = this.options.now();
    for (const subs of this.byContext.values()) {
      for (const sub of subs) {
        if (now - sub.lastPongAt > this.options.pong_timeout_ms) {
          this.closeSub(sub, 'heartbeat_timeout', 'no pong within the heartbeat timeout');
          continue;
        }
        // A scoped token opens a stream only for its lifetime; the client reconnects with a fresh one.
        if (sub.expiresAt !== undefined && now >= sub.expiresAt) {
          this.closeSub(sub, 'unauthorized', 'token expired');
          continue;
        }
        const status = this.options.statusOf(sub.contextId);
        this.sendRaw(sub, JSON.stringify({ type: 'ping', version: status?.version ?? sub.version }));
      }
    }
  }

  /**
   * The context's state was replaced wholesale (a snapshot was installed), so
   * versions may have been skipped: drop what the replay buffer holds and tell
   * live subscribers to refetch (`reset`) from the current version on.
   */
  reset(contextId: string): void {
    this.replay.forget(contextId);
    const subs = this.byContext.get(contextId);
    if (!subs) return;
    const status = this.options.statusOf(contextId);
    for (const sub of [...subs]) {
      if (!status) {
        this.closeSub(sub, 'not_found', 'context no longer exists on this node');
        continue;
      }
      this.sendRaw(sub, JSON.stringify({ type: 'reset', version: status.version }));
      sub.version = status.version;
    }
  }

  /** Closes the subscriptions of one context, e.g. when its group's replica leaves this node. */
  closeContext(contextId: string, reason: 'going_away' | 'unavailable', text: string): void {
    for (const sub of [...(this.byContext.get(contextId) ?? [])]) this.closeSub(sub, reason, text);
    this.replay.forget(contextId);
  }

  /** Closes every subscription, e.g. on shutdown. */
  closeAll(reason: 'going_away' | 'unavailable', text: string): void {
    for (const subs of [...this.byContext.values()]) {
      for (const sub of [...subs]) this.closeSub(sub, reason, text);
    }
  }

  private deliver(sub: Subscription, lazy: VersionGroup): void {
    if (sub.closed || lazy.version <= sub.version) return;
    const group = lazy.encoded;
    const sent = sub.includeMessages ? group.frames.length : group.framesWithoutMessages;
    if (sub.sink.sendFramed) {
      sub.sink.sendFramed(sub.includeMessages ? group.wire : group.wireWithoutMessages);
    } else {
      for (const frame of group.frames) {
        if (frame.type === 'message' && !sub.includeMessages) continue;
        sub.sink.send(frame.payload.toString('utf8'));
      }
    }
    sub.version = group.version;
    this.options.onFramesSent?.(sent);
    if (group.tombstoned) {
      this.closeSub(sub, 'normal', 'tombstoned');
      return;
    }
    if (sub.sink.bufferedBytes() > this.options.send_buffer_bytes_max) {
      this.closeSub(sub, 'slow_consumer', 'send buffer full: consumer too slow');
    }
  }

  private sendRaw(sub: Subscription, json: string): void {
    if (sub.closed) return;
    sub.sink.send(json);
    this.options.onFramesSent?.(1);
  }

  private closeSub(sub: Subscription, reason: keyof typeof streamCloseCodes, text: string): void {
    if (sub.closed) return;
    this.unsubscribe(sub);
    sub.sink.close(streamCloseCodes[reason], text);
    this.options.onClosed?.(reason);
  }
}
