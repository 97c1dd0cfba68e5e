import type { Logger } from 'pino';
import type { Runtime } from '../util/runtime.js';
import { estimateBytes, FrameEncoder } from './frame-codec.js';

interface Queued {
  readonly msg: unknown;
  readonly bytes: number;
  readonly onDropped?: () => void;
}

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** One outbound byte stream to a peer, as the link sees it: TCP in production, simulated in the simulator. */
export interface LinkSocket {
  write(data: Uint8Array): void;
  /** Bytes accepted by `write` and not yet handed to the network. */
  bufferedBytes(): number;
  close(): void;
}

export interface SocketEvents {
  open(): void;
  /** The stream ended or could not be opened; called once, also after `close()`. */
  close(): void;
}

export type Dialer = (address: PeerAddress, events: SocketEvents) => LinkSocket;

export interface LinkLimits {
  /** Messages to one peer are packed into frames of about this many bytes. */
  readonly frame_bytes_target: number;
  /** Messages waiting for the next flush, per peer. */
  readonly queue_messages_max: number;
  readonly queue_bytes_max: number;
  /** Bytes the socket may buffer before further messages are dropped. */
  readonly socket_buffer_bytes_max: number;
  readonly reconnect_delay_min_ms: number;
  readonly reconnect_delay_max_ms: number;
}

export const DEFAULT_LINK_LIMITS: LinkLimits = Object.freeze({
  frame_bytes_target: 1024 * 1024,
  queue_messages_max: 10_000,
  queue_bytes_max: 64 * 1024 * 1024,
  socket_buffer_bytes_max: 32 * 1024 * 1024,
  reconnect_delay_min_ms: 50,
  reconnect_delay_max_ms: 2_000,
});

/**
 * The outbound half of the link to one peer: messages queued during a turn go
 * out together at the end of it, packed into bounded frames. Queues are
 * bounded in messages and bytes, and so is what the socket may buffer: when a
 * peer is slow or unreachable, messages are dropped rather than held without
 * limit; Raft retransmits what matters. A lost connection is re-dialled with
 * capped exponential backoff and jitter.
 */
export class PeerLink {
  private socket: LinkSocket | undefined;
  private connected = false;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private attempt = 0;
  private cancelRedial: (() => void) | undefined;
  private closed = false;
  private readonly encoder: FrameEncoder;
  /** Messages dropped (full queue or socket buffer, or a connection lost with them queued). */
  dropped = 0;
  /** Connections opened. */
  connects = 0;

  constructor(
    readonly id: string,
    private address: PeerAddress,
    self: string,
    private readonly dialer: Dialer,
    private readonly runtime: Runtime,
    private readonly limits: LinkLimits,
    private readonly log?: Logger,
  ) {
    this.encoder = new FrameEncoder(self, limits.frame_bytes_target);
    this.dial();
  }

  /** Bytes queued for the peer and not yet handed to the network. */
  bufferedBytes(): number {
    return this.queuedBytes + (this.socket?.bufferedBytes() ?? 0);
  }

  /** Whether a connection is open now. */
  get isConnected(): boolean {
    return this.connected;
  }

  get currentAddress(): PeerAddress {
    return this.address;
  }

  setAddress(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = address;
    this.socket?.close();
  }

  /**
   * Queues a message for the end of this turn; false when it was dropped.
   * `onDropped` is called if it is later discarded without being written
   * (the connection was lost first): the peer then never saw it.
   */
  send(message: unknown, onDropped?: () => void): boolean {
    if (this.closed) return false;
    const bytes = estimateBytes(message);
    const full =
      this.queue.length >= this.limits.queue_messages_max ||
      (this.queue.length > 0 && this.queuedBytes + bytes > this.limits.queue_bytes_max) ||
      (this.connected &&
        this.socket !== undefined &&
        this.socket.bufferedBytes() > this.limits.socket_buffer_bytes_max);
    if (full) {
      this.dropped++;
      return false;
    }
    this.queue.push(onDropped ? { msg: message, bytes, onDropped } : { msg: message, bytes });
    this.queuedBytes += bytes;
    if (!this.flushScheduled && this.connected) {
      this.flushScheduled = true;
      this.runtime.soon(() => this.flush());
    }
    return true;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.connected || !this.socket || this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const frame of this.encoder.encode(queued)) this.socket.write(frame);
  }

  private dial(): void {
    if (this.closed) return;
    let socket: LinkSocket | undefined;
    let ended = false;
    socket = this.dialer(this.address, {
      open: () => {
        if (ended || this.socket !== socket) return;
        this.connected = true;
        this.attempt = 0;
        this.connects++;
        this.log?.debug({ type: 'peer_connected', peer: this.id }, 'peer connected');
        this.flush();
      },
      close: () => {
        if (ended) return;
        ended = true;
        if (this.socket !== socket) return;
        if (this.connected)
          this.log?.debug({ type: 'peer_disconnected', peer: this.id }, 'peer disconnected');
        this.connected = false;
        this.socket = undefined;
        // Messages queued for a dead connection are stale by the time it is back.
        this.discardQueue();
        this.scheduleRedial();
      },
    });
    if (!ended) this.socket = socket;
  }

  private discardQueue(): void {
    const queued = this.queue;
    this.dropped += queued.length;
    this.queue = [];
    this.queuedBytes = 0;
    for (const q of queued) q.onDropped?.();
  }

  private scheduleRedial(): void {
    if (this.closed) return;
    const { reconnect_delay_min_ms: min, reconnect_delay_max_ms: max } = this.limits;
    const ceiling = Math.min(max, min * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = ceiling / 2 + this.runtime.random() * (ceiling / 2);
    this.cancelRedial = this.runtime.setTimer(delay, () => this.dial());
  }

  close(): void {
    this.closed = true;
    this.cancelRedial?.();
    this.discardQueue();
    this.socket?.close();
  }
}
