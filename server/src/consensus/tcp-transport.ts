import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { plainPackr } from '../util/msgpack.js';

/**
 * Node-to-node transport for Raft messages over TCP.
 *
 * - One outbound connection per peer carries the messages of every group;
 *   inbound connections only receive. Frames are a 4-byte big-endian length
 *   followed by a msgpack body `{ from, msgs }`.
 * - Messages sent in one event-loop turn to the same peer go out as one frame.
 * - Queues are bounded: when a peer is slow or unreachable, messages are
 *   dropped rather than buffered without limit; Raft retransmits what matters.
 * - Lost connections are re-dialled with capped exponential backoff and jitter.
 */
export interface TransportOptions {
  nodeId: string;
  host: string;
  port: number;
  onMessages: (from: string, messages: unknown[]) => void;
  logger?: Logger;
  /** Largest frame accepted from a peer; bigger ones close the connection. */
  frame_bytes_max?: number;
  /** Messages waiting for a connection, per peer. */
  queue_messages_max?: number;
  /** Bytes the socket may buffer before further messages are dropped. */
  socket_buffer_bytes_max?: number;
  reconnect_delay_min_ms?: number;
  reconnect_delay_max_ms?: number;
  random?: () => number;
}

const HEADER_BYTES = 4;

interface Frame {
  from: string;
  msgs: unknown[];
}

class PeerLink {
  private socket: Socket | undefined;
  private connected = false;
  private queue: unknown[] = [];
  private flushScheduled = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  dropped = 0;

  constructor(
    readonly id: string,
    private address: { host: string; port: number },
    private readonly owner: TcpTransport,
  ) {
    this.dial();
  }

  setAddress(address: { host: string; port: number }): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = address;
    this.socket?.destroy();
  }

  send(message: unknown): boolean {
    if (this.closed) return false;
    const limits = this.owner.limits;
    if (this.queue.length >= limits.queue_messages_max) {
      this.dropped++;
      return false;
    }
    if (this.connected && this.socket && this.socket.writableLength > limits.socket_buffer_bytes_max) {
      this.dropped++;
      return false;
    }
    this.queue.push(message);
    if (!this.flushScheduled && this.connected) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.connected || !this.socket || this.queue.length === 0) return;
    const msgs = this.queue;
    this.queue = [];
    this.socket.write(this.owner.encode({ from: this.owner.nodeId, msgs }));
  }

  private dial(): void {
    if (this.closed) return;
    const socket = connect({ host: this.address.host, port: this.address.port, noDelay: true });
    this.socket = socket;
    socket.setKeepAlive(true, 5_000);
    socket.once('connect', () => {
      this.connected = true;
      this.attempt = 0;
      this.owner.log?.debug({ type: 'peer_connected', peer: this.id }, 'peer connected');
      this.flush();
    });
    socket.on('error', () => {
      // 'close' follows and schedules the redial.
    });
    socket.once('close', () => {
      const wasConnected = this.connected;
      this.connected = false;
      this.socket = undefined;
      if (wasConnected)
        this.owner.log?.debug({ type: 'peer_disconnected', peer: this.id }, 'peer disconnected');
      // Messages queued for a dead connection are stale by the time it is back.
      this.queue = [];
      this.scheduleRedial();
    });
  }

  private scheduleRedial(): void {
    if (this.closed) return;
    const { reconnect_delay_min_ms: min, reconnect_delay_max_ms: max } = this.owner.limits;
    const ceiling = Math.min(max, min * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = ceiling / 2 + this.owner.random() * (ceiling / 2);
    this.timer = setTimeout(() => this.dial(), delay);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue = [];
    this.socket?.destroy();
  }
}

/** Splits a byte stream into length-prefixed frames, refusing oversize ones. */
class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer, onFrame: (body: Buffer) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < HEADER_BYTES) return;
      const head = this.peek(HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.maxBytes) throw new Error(`frame of ${length} bytes exceeds ${this.maxBytes}`);
      if (this.buffered < HEADER_BYTES + length) return;
      const all = this.take(HEADER_BYTES + length);
      onFrame(all.subarray(HEADER_BYTES));
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}

export class TcpTransport {
  readonly nodeId: string;
  readonly log: Logger | undefined;
  readonly random: () => number;
  readonly limits: Required<
    Pick<
      TransportOptions,
      | 'frame_bytes_max'
      | 'queue_messages_max'
      | 'socket_buffer_bytes_max'
      | 'reconnect_delay_min_ms'
      | 'reconnect_delay_max_ms'
    >
  >;
  private readonly peers = new Map<string, PeerLink>();
  private readonly inbound = new Set<Socket>();
  private server: Server | undefined;
  private readonly packr = plainPackr();

  constructor(private readonly options: TransportOptions) {
    this.nodeId = options.nodeId;
    this.log = options.logger;
    this.random = options.random ?? Math.random;
    this.limits = {
      frame_bytes_max: options.frame_bytes_max ?? 64 * 1024 * 1024,
      queue_messages_max: options.queue_messages_max ?? 10_000,
      socket_buffer_bytes_max: options.socket_buffer_bytes_max ?? 32 * 1024 * 1024,
      reconnect_delay_min_ms: options.reconnect_delay_min_ms ?? 50,
      reconnect_delay_max_ms: options.reconnect_delay_max_ms ?? 2_000,
    };
  }

  /** Starts listening; resolves with the bound port. */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : this.options.port);
      });
      this.server = server;
    });
  }

  encode(frame: Frame): Buffer {
    const body = this.packr.pack(frame);
    const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    out.writeUInt32BE(body.length, 0);
    body.copy(out, HEADER_BYTES);
    return out;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.inbound.add(socket);
    const reader = new FrameReader(this.limits.frame_bytes_max);
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (body) => {
          const frame = this.packr.unpack(body) as Frame;
          if (typeof frame?.from !== 'string' || !Array.isArray(frame.msgs))
            throw new Error('malformed frame');
          this.options.onMessages(frame.from, frame.msgs);
        });
      } catch (error) {
        this.log?.warn({ type: 'peer_protocol_error', err: error }, 'closing peer connection');
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.once('close', () => this.inbound.delete(socket));
  }

  /** Adds or updates a peer; a changed address re-dials. */
  setPeer(id: string, address: { host: string; port: number }): void {
    if (id === this.nodeId) return;
    const link = this.peers.get(id);
    if (link) link.setAddress(address);
    else this.peers.set(id, new PeerLink(id, address, this));
  }

  removePeer(id: string): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  /** Queues a message; false when it was dropped (unknown peer or full queue). */
  send(to: string, message: unknown): boolean {
    const link = this.peers.get(to);
    return link ? link.send(message) : false;
  }

  droppedCount(): number {
    let n = 0;
    for (const link of this.peers.values()) n += link.dropped;
    return n;
  }

  async close(): Promise<void> {
    for (const link of this.peers.values()) link.close();
    this.peers.clear();
    for (const socket of this.inbound) socket.destroy();
    this.inbound.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
