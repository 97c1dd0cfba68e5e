import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { type Runtime, systemRuntime } from '../util/runtime.js';
import { FrameDecoder } from './frame-codec.js';
import {
  DEFAULT_LINK_LIMITS,
  type Dialer,
  type LinkLimits,
  type PeerAddress,
  PeerLink,
} from './peer-link.js';

/**
 * Node-to-node transport for Raft messages over TCP: one outbound connection
 * per peer carries the messages of every group (`PeerLink`: batching, bounded
 * frames and queues, reconnects); inbound connections only receive.
 */
export interface TransportOptions extends Partial<LinkLimits> {
  nodeId: string;
  host: string;
  port: number;
  onMessages: (from: string, messages: unknown[]) => void;
  logger?: Logger;
  /** Largest frame accepted from a peer; bigger ones close the connection. */
  frame_bytes_max?: number;
  runtime?: Runtime;
}

/** Dials peers over TCP. */
export const tcpDialer: Dialer = (address, events) => {
  const socket = connect({ host: address.host, port: address.port, noDelay: true });
  socket.setKeepAlive(true, 5_000);
  socket.once('connect', () => events.open());
  // 'close' follows every error.
  socket.on('error', () => {});
  socket.once('close', () => events.close());
  return {
    write: (data) => {
      socket.write(data);
    },
    bufferedBytes: () => socket.writableLength,
    close: () => socket.destroy(),
  };
};

export class TcpTransport {
  readonly nodeId: string;
  private readonly log: Logger | undefined;
  private readonly runtime: Runtime;
  private readonly limits: LinkLimits;
  private readonly frameBytesMax: number;
  private readonly peers = new Map<string, PeerLink>();
  private readonly inbound = new Set<Socket>();
  private server: Server | undefined;
  /** Inbound connections closed for a protocol violation (oversize or malformed frame). */
  protocolErrors = 0;

  constructor(private readonly options: TransportOptions) {
    this.nodeId = options.nodeId;
    this.log = options.logger;
    this.runtime = options.runtime ?? systemRuntime;
    this.limits = {
      frame_bytes_target: options.frame_bytes_target ?? DEFAULT_LINK_LIMITS.frame_bytes_target,
      queue_messages_max: options.queue_messages_max ?? DEFAULT_LINK_LIMITS.queue_messages_max,
      queue_bytes_max: options.queue_bytes_max ?? DEFAULT_LINK_LIMITS.queue_bytes_max,
      socket_buffer_bytes_max: options.socket_buffer_bytes_max ?? DEFAULT_LINK_LIMITS.socket_buffer_bytes_max,
      reconnect_delay_min_ms: options.reconnect_delay_min_ms ?? DEFAULT_LINK_LIMITS.reconnect_delay_min_ms,
      reconnect_delay_max_ms: options.reconnect_delay_max_ms ?? DEFAULT_LINK_LIMITS.reconnect_delay_max_ms,
    };
    this.frameBytesMax = options.frame_bytes_max ?? 64 * 1024 * 1024;
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

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.inbound.add(socket);
    const decoder = new FrameDecoder(this.frameBytesMax);
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => this.options.onMessages(frame.from, frame.msgs));
      } catch (error) {
        this.protocolErrors++;
        this.log?.warn({ type: 'peer_protocol_error', err: error }, 'closing peer connection');
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.once('close', () => this.inbound.delete(socket));
  }

  /** Adds or updates a peer; a changed address re-dials. */
  setPeer(id: string, address: PeerAddress): void {
    if (id === this.nodeId) return;
    const link = this.peers.get(id);
    if (link) link.setAddress(address);
    else
      this.peers.set(
        id,
        new PeerLink(id, address, this.nodeId, tcpDialer, this.runtime, this.limits, this.log),
      );
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

  /** Outbound connections opened so far, over all peers (a reset shows up as a reconnect). */
  connectCount(): number {
    let n = 0;
    for (const link of this.peers.values()) n += link.connects;
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
