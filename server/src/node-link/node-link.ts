import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type Runtime, systemRuntime } from '../util/runtime.js';
import { formatAddress, parseAddress } from './address.js';
import { FrameDecoder, FrameEncoder } from './frame-codec.js';
import {
  HEADER,
  type Hello,
  helloHeaders,
  LINK_PATH,
  LINK_PROTOCOL,
  newNonce,
  parseHello,
  proof,
  proofMatches,
} from './handshake.js';
import type { NodeLinkMetrics } from './metrics.js';
import { DEFAULT_LINK_LIMITS, type Dialer, type LinkLimits, PeerLink } from './peer-link.js';

/** Why a connection failed or was refused; the label of `fastpaca_node_link_errors_total`. */
export type LinkErrorReason =
  /** The peer could not be reached (refused, reset, timed out). */
  | 'connect'
  /** A side could not prove it knows the cluster secret. */
  | 'auth'
  /** The peer belongs to another cluster, or is not admitted. */
  | 'refused'
  /** A frame or header that breaks the protocol. */
  | 'protocol'
  /** Another node answered at the peer's address. */
  | 'identity';

/** Who this node is, as it tells peers. */
export interface LinkIdentity {
  readonly node: string;
  readonly cluster: string | null;
  readonly address: string;
}

export interface NodeLinkOptions extends Partial<LinkLimits> {
  secret: string;
  /** Read at every handshake: the cluster id is set once the node joins one. */
  identity: () => LinkIdentity;
  /** Whether an authenticated peer may talk to this node; a string refuses it with that reason. */
  admit: (peer: Hello) => string | undefined;
  /** Frames' messages from an authenticated, admitted peer, with what it said in its handshake. */
  onMessages: (peer: Hello, messages: unknown[]) => void;
  /** A frame came from an admitted peer this node does not dial (a node joining, say). */
  onInboundPeer?: (peer: Hello) => void;
  /** The outbound connection to a peer closed: what was written to it may not have arrived. */
  onPeerLost?: (node: string) => void;
  /** Another node answered at a peer's address (it was replaced, or its data was wiped). */
  onIdentityMismatch?: (expected: string, found: Hello) => void;
  runtime?: Runtime;
  logger?: Logger;
  metrics?: NodeLinkMetrics;
  /** Largest frame accepted from a peer; bigger ones close the connection. */
  frame_bytes_max?: number;
  /** An accepted connection that has not proved the secret within this time is closed. */
  hello_timeout_ms?: number;
  connect_timeout_ms?: number;
}

/** A link-level message: the dialer's proof, or the acceptor's refusal. */
interface ControlMessage {
  readonly ch: 'hello' | 'refuse';
  readonly proof?: string;
  readonly reason?: string;
}

const CONTROL_BYTES = 256;

/**
 * The node-to-node link: one outbound connection per peer (`PeerLink`:
 * batching, bounded frames and queues, reconnects) carries everything this
 * node sends it; inbound connections only receive. Connections are HTTP
 * upgrades on the REST port, authenticated both ways (handshake.ts) before a
 * single message is believed. What the messages mean is the caller's
 * business (`onMessages`): Raft messages, requests, reports.
 */
export class NodeLink {
  private readonly runtime: Runtime;
  private readonly limits: LinkLimits;
  private readonly frameBytesMax: number;
  private readonly peerLinks = new Map<string, PeerLink>();
  private readonly inbound = new Set<Duplex>();
  /** The admitted inbound connection of each peer: a peer dials one, so an older one is dead. */
  private readonly inboundOf = new Map<string, Duplex>();
  private readonly heard = new Map<string, number>();
  private closed = false;

  constructor(private readonly o: NodeLinkOptions) {
    this.runtime = o.runtime ?? systemRuntime;
    this.limits = {
      frame_bytes_target: o.frame_bytes_target ?? DEFAULT_LINK_LIMITS.frame_bytes_target,
      queue_messages_max: o.queue_messages_max ?? DEFAULT_LINK_LIMITS.queue_messages_max,
      queue_bytes_max: o.queue_bytes_max ?? DEFAULT_LINK_LIMITS.queue_bytes_max,
      socket_buffer_bytes_max: o.socket_buffer_bytes_max ?? DEFAULT_LINK_LIMITS.socket_buffer_bytes_max,
      reconnect_delay_min_ms: o.reconnect_delay_min_ms ?? DEFAULT_LINK_LIMITS.reconnect_delay_min_ms,
      reconnect_delay_max_ms: o.reconnect_delay_max_ms ?? DEFAULT_LINK_LIMITS.reconnect_delay_max_ms,
    };
    this.frameBytesMax = o.frame_bytes_max ?? 64 * 1024 * 1024;
    o.metrics?.observe({
      connected: () => [...this.peerLinks.values()].filter((l) => l.isConnected).length,
      peers: () => this.peerLinks.size,
    });
  }

  /** Whether an HTTP upgrade request is for the node link (the server dispatches on it). */
  static isLinkRequest(req: IncomingMessage): boolean {
    return (req.url ?? '').split('?')[0] === LINK_PATH;
  }

  // ---------------------------------------------------------------- outbound

  /** Dials `node` at `address` (host:port) from now on; a changed address re-dials. */
  setPeer(node: string, address: string): void {
    if (this.closed || node === this.o.identity().node) return;
    const parsed = parseAddress(address);
    if (!parsed) {
      this.o.logger?.warn(
        { type: 'node_link_bad_address', peer: node, address },
        'ignoring a malformed address',
      );
      return;
    }
    const link = this.peerLinks.get(node);
    if (link) {
      link.setAddress(parsed);
      return;
    }
    this.peerLinks.set(
      node,
      new PeerLink(
        node,
        parsed,
        this.o.identity().node,
        this.dialer(node),
        this.runtime,
        this.limits,
        this.o.logger,
      ),
    );
  }

  removePeer(node: string): void {
    this.peerLinks.get(node)?.close();
    this.peerLinks.delete(node);
    this.heard.delete(node);
  }

  peers(): string[] {
    return [...this.peerLinks.keys()];
  }

  addressOf(node: string): string | undefined {
    const link = this.peerLinks.get(node);
    return link && formatAddress(link.currentAddress);
  }

  isConnected(node: string): boolean {
    return this.peerLinks.get(node)?.isConnected ?? false;
  }

  /**
   * Queues a message for `node`; false when it was dropped at once (unknown
   * peer, full queue). `onDropped` is called if it is discarded later without
   * having been written.
   */
  send(node: string, message: unknown, onDropped?: () => void): boolean {
    const link = this.peerLinks.get(node);
    return link ? link.send(message, onDropped) : false;
  }

  /** Bytes queued for `node` and not yet handed to the network. */
  bufferedBytes(node: string): number {
    return this.peerLinks.get(node)?.bufferedBytes() ?? 0;
  }

  /** Monotonic time (runtime clock) of the last frame received from `node`. */
  lastHeard(node: string): number | undefined {
    return this.heard.get(node);
  }

  /** Closes and re-dials every outbound connection, so peers see this node's new identity. */
  redialAll(): void {
    // A snapshot: re-adding a peer while iterating the map itself would visit it again, forever.
    for (const [node, link] of [...this.peerLinks]) {
      const address = link.currentAddress;
      link.close();
      this.peerLinks.delete(node);
      this.setPeer(node, formatAddress(address));
    }
  }

  /** Who answers at `address`, verified by its proof of the secret; rejects when nobody does. */
  probe(address: string, timeoutMs = 2_000): Promise<Hello> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const cancel = this.runtime.setTimer(timeoutMs, () => done(new Error(`no answer from ${address}`)));
      const done = (result: Hello | Error) => {
        if (settled) return;
        settled = true;
        cancel();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const opened = this.open(address, undefined, {
        established: (socket, peer) => {
          socket.destroy();
          done(peer);
        },
        failed: (_reason, message) => done(new Error(message)),
      });
      if (!opened) done(new Error(`malformed address ${address}`));
    });
  }

  private dialer(expected: string): Dialer {
    return (address, events) => {
      let socket: Socket | undefined;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        socket?.destroy();
        events.close();
        if (socket) this.o.onPeerLost?.(expected);
      };
      const opened = this.open(formatAddress(address), expected, {
        established: (s, _peer, me) => {
          if (ended) {
            s.destroy();
            return;
          }
          socket = s;
          s.once('close', end);
          const encoder = new FrameEncoder(me.node, this.limits.frame_bytes_target);
          const hello: ControlMessage = { ch: 'hello', proof: proof(this.o.secret, 'dialer', me, _peer) };
          this.write(s, encoder.encode([{ msg: hello, bytes: CONTROL_BYTES }]));
          events.open();
        },
        failed: end,
      });
      if (!opened) this.runtime.soon(end);
      return {
        write: (data) => {
          if (socket && !ended) this.write(socket, [data]);
        },
        bufferedBytes: () => socket?.writableLength ?? 0,
        close: end,
      };
    };
  }

  private write(socket: Duplex, frames: readonly Uint8Array[]): void {
    for (const f of frames) {
      this.o.metrics?.bytes('out', f.length);
      socket.write(f);
    }
  }

  /**
   * Dials `address` and runs the dialer's side of the handshake up to the
   * acceptor's verified proof. Returns false for a malformed address.
   */
  private open(
    address: string,
    expected: string | undefined,
    on: {
      established: (socket: Socket, peer: Hello, me: Hello) => void;
      failed: (reason: LinkErrorReason, message: string) => void;
    },
  ): boolean {
    const parsed = parseAddress(address);
    if (!parsed || this.closed) return false;
    const me: Hello = { ...this.o.identity(), nonce: newNonce() };
    let finished = false;
    const fail = (reason: LinkErrorReason, message: string) => {
      if (finished) return;
      finished = true;
      this.o.metrics?.error(reason);
      const level = reason === 'connect' ? 'debug' : 'warn';
      this.o.logger?.[level]({ type: 'node_link_failed', reason, address, peer: expected }, message);
      req.destroy();
      on.failed(reason, message);
    };
    const req = httpRequest({
      host: parsed.host,
      port: parsed.port,
      path: LINK_PATH,
      method: 'GET',
      agent: false,
      timeout: this.o.connect_timeout_ms ?? 5_000,
      headers: { connection: 'Upgrade', upgrade: LINK_PROTOCOL, ...helloHeaders(me) },
    });
    req.once('timeout', () => fail('connect', `connecting to ${address} timed out`));
    req.once('error', (error) => fail('connect', `cannot reach ${address}: ${error.message}`));
    req.once('response', (res) => {
      // Not upgraded: the answer's body says why (another product, a node without a cluster, ...).
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1_000) body += chunk;
      });
      res.once('end', () =>
        fail('refused', `${address} refused the node link (${res.statusCode}): ${body.slice(0, 300)}`),
      );
      res.once('error', () => fail('refused', `${address} refused the node link (${res.statusCode})`));
    });
    req.once('upgrade', (res, socket: Socket, head: Buffer) => {
      socket.on('error', () => {});
      // The connect timeout must not become an idle timeout of the link.
      socket.setTimeout(0);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 5_000);
      const peer = parseHello(res.headers);
      if (typeof peer === 'string') {
        socket.destroy();
        return fail('protocol', `${address} answered with a bad handshake: ${peer}`);
      }
      if (!proofMatches(proof(this.o.secret, 'acceptor', me, peer), res.headers[HEADER.proof])) {
        socket.destroy();
        return fail(
          'auth',
          `node ${peer.node} at ${address} could not prove it knows FASTPACA_CLUSTER_SECRET; check that every node has the same secret`,
        );
      }
      if (expected !== undefined && peer.node !== expected) {
        socket.destroy();
        this.o.onIdentityMismatch?.(expected, peer);
        return fail('identity', `expected node ${expected} at ${address} but ${peer.node} answered`);
      }
      finished = true;
      // The acceptor only ever sends a refusal on this connection.
      const decoder = new FrameDecoder(64 * 1024);
      const onData = (chunk: Buffer) => {
        this.o.metrics?.bytes('in', chunk.length);
        try {
          decoder.push(chunk, (frame) => {
            const refusal = frame.msgs.find((m) => (m as ControlMessage)?.ch === 'refuse') as
              | ControlMessage
              | undefined;
            if (refusal) {
              this.o.metrics?.error('refused');
              this.o.logger?.warn(
                { type: 'node_link_refused', peer: peer.node, address, reason: refusal.reason },
                `node ${peer.node} at ${address} refused this node: ${refusal.reason}`,
              );
              socket.destroy();
            }
          });
        } catch {
          this.o.metrics?.error('protocol');
          socket.destroy();
        }
      };
      socket.on('data', onData);
      socket.once('end', () => socket.destroy());
      if (head.length > 0) onData(head);
      on.established(socket, peer, me);
    });
    req.end();
    return true;
  }

  // ----------------------------------------------------------------- inbound

  /** Takes over an HTTP upgrade request for the node link (the acceptor's side of the handshake). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const refuse = (status: number, message: string, reason: LinkErrorReason) => {
      this.o.metrics?.error(reason);
      this.o.logger?.warn(
        { type: 'node_link_refused', reason, remote: (socket as Socket).remoteAddress },
        `refused a node link: ${message}`,
      );
      const body = `${message}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${status === 426 ? 'Upgrade Required' : 'Bad Request'}\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    };
    if (this.closed) {
      refuse(400, 'node is shutting down', 'refused');
      return;
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== LINK_PROTOCOL) {
      refuse(426, `the node link speaks Upgrade: ${LINK_PROTOCOL}`, 'protocol');
      return;
    }
    const peer = parseHello(req.headers);
    if (typeof peer === 'string') {
      refuse(400, peer, 'protocol');
      return;
    }
    const me: Hello = { ...this.o.identity(), nonce: newNonce() };
    const headers = { ...helloHeaders(me), [HEADER.proof]: proof(this.o.secret, 'acceptor', peer, me) };
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${LINK_PROTOCOL}\r\nConnection: Upgrade\r\n` +
        `${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
    );
    (socket as Socket).setNoDelay?.(true);
    // A dialler that vanished without a FIN (power loss, a partition) must not leave this socket open for ever.
    (socket as Socket).setKeepAlive?.(true, 5_000);
    this.inbound.add(socket);
    const expectedProof = proof(this.o.secret, 'dialer', peer, me);
    const encoder = new FrameEncoder(me.node, this.limits.frame_bytes_target);
    const decoder = new FrameDecoder(this.frameBytesMax);
    let admitted = false;
    const cancelHello = this.runtime.setTimer(this.o.hello_timeout_ms ?? 5_000, () => {
      if (admitted) return;
      this.o.metrics?.error('auth');
      this.o.logger?.warn({ type: 'node_link_refused', reason: 'auth', peer: peer.node }, 'no proof in time');
      socket.destroy();
    });
    const close = (reason: LinkErrorReason, message: string, tell?: string) => {
      this.o.metrics?.error(reason);
      this.o.logger?.warn(
        { type: 'node_link_refused', reason, peer: peer.node, address: peer.address },
        message,
      );
      if (tell) {
        const refusal: ControlMessage = { ch: 'refuse', reason: tell };
        this.write(socket, encoder.encode([{ msg: refusal, bytes: CONTROL_BYTES }]));
        socket.end();
      } else {
        socket.destroy();
      }
    };
    const onFrame = (frame: { from: string; msgs: unknown[] }) => {
      if (frame.from !== peer.node)
        return close('protocol', `a frame from ${peer.node} claims to be from ${frame.from}`);
      let msgs = frame.msgs;
      if (!admitted) {
        const hello = msgs[0] as ControlMessage | undefined;
        if (hello?.ch !== 'hello' || !proofMatches(expectedProof, hello.proof)) {
          return close(
            'auth',
            `node ${peer.node} (${peer.address}) could not prove it knows FASTPACA_CLUSTER_SECRET`,
          );
        }
        if (peer.node === me.node) return close('refused', 'a node dialled itself', 'this is you');
        const refusal = this.o.admit(peer);
        if (refusal !== undefined) return close('refused', `refused node ${peer.node}: ${refusal}`, refusal);
        admitted = true;
        cancelHello();
        const older = this.inboundOf.get(peer.node);
        if (older !== undefined && older !== socket) older.destroy();
        this.inboundOf.set(peer.node, socket);
        msgs = msgs.slice(1);
      }
      // Checked on every frame, not just at the handshake: a peer this node stopped dialling (its
      // membership view was behind) but which still talks to it must be answered, or neither learns more.
      if (!this.peerLinks.has(peer.node)) this.o.onInboundPeer?.(peer);
      this.heard.set(peer.node, this.runtime.now());
      if (msgs.length > 0) this.o.onMessages(peer, msgs);
    };
    const onData = (chunk: Buffer) => {
      this.o.metrics?.bytes('in', chunk.length);
      try {
        decoder.push(chunk, onFrame);
      } catch (error) {
        close('protocol', `closing the link from ${peer.node}: ${(error as Error).message}`);
      }
    };
    socket.on('data', onData);
    // The dialer closing its side ends the link: nothing more can arrive.
    socket.once('end', () => socket.destroy());
    socket.once('close', () => {
      cancelHello();
      this.inbound.delete(socket);
      if (this.inboundOf.get(peer.node) === socket) this.inboundOf.delete(peer.node);
    });
    if (head.length > 0) onData(head);
  }

  /** Messages dropped over all peers (full queues, lost connections). */
  droppedCount(): number {
    let n = 0;
    for (const link of this.peerLinks.values()) n += link.dropped;
    return n;
  }

  close(): void {
    this.closed = true;
    for (const link of this.peerLinks.values()) link.close();
    this.peerLinks.clear();
    for (const socket of this.inbound) socket.destroy();
    this.inbound.clear();
    this.inboundOf.clear();
  }
}
