import { type Frame, FrameDecoder } from '../node-link/frame-codec.js';
import type { LinkSocket, SocketEvents } from '../node-link/peer-link.js';
import type { Prng } from '../raft/prng.js';

export interface NetworkFaults {
  /** Probability a write (one or more frames) is lost. */
  drop: number;
  /** Probability a write is delivered twice. */
  duplicate: number;
  /** Probability a write takes a long detour (so it overtakes or is overtaken). */
  reorder: number;
  delayMinMs: number;
  delayMaxMs: number;
  reorderMaxMs: number;
  /** Per partition change, probability that connections across the cut are reset rather than left silent. */
  resetOnPartition: number;
}

export const CALM_NETWORK: NetworkFaults = Object.freeze({
  drop: 0,
  duplicate: 0,
  reorder: 0,
  delayMinMs: 1,
  delayMaxMs: 3,
  reorderMaxMs: 0,
  resetOnPartition: 0,
});

/** What the network needs from the simulation. */
export interface NetworkHost {
  /** Runs `fn` at `at` in the process of node `node` running as `epoch` (dropped if it died meanwhile). */
  atProcess(at: number, node: number, epoch: number, fn: () => void): void;
  now(): number;
  /** The epoch of the node's running process, or undefined when it is down. */
  epochOf(node: number): number | undefined;
  /** Frames a node's process received on a connection. */
  deliver(node: number, from: string, msgs: unknown[]): void;
  /** The framing broke: no sender in the simulation may ever produce a bad frame. */
  protocolError(message: string): void;
}

interface Connection {
  readonly from: number;
  readonly fromEpoch: number;
  readonly to: number;
  toEpoch: number | undefined;
  open: boolean;
  closed: boolean;
  readonly events: SocketEvents;
  readonly decoder: FrameDecoder;
}

/**
 * The network between simulated nodes. Node processes talk through the real
 * node link (`PeerLink`, the frame codec): a dial opens a connection unless
 * the link is cut or the peer is down; each write (whole frames) may be lost,
 * duplicated, delayed or reordered, worse than TCP on purpose, and its bytes
 * reach the receiver's real frame decoder in random pieces. Partitions cut
 * links one way or both; connections die with either process.
 */
export class SimNetwork {
  faults: NetworkFaults;
  private readonly blocked = new Set<string>();
  private readonly connections = new Set<Connection>();
  sent = 0;
  bytes = 0;
  dropped = 0;
  resets = 0;

  constructor(
    private readonly prng: Prng,
    faults: NetworkFaults,
    private readonly host: NetworkHost,
    private readonly frameBytesMax: number,
  ) {
    this.faults = faults;
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  blockOneWay(from: number, to: number): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** No frames cross between different sides; connections across the cut may be reset. */
  partition(sides: readonly (readonly number[])[]): void {
    for (let i = 0; i < sides.length; i++) {
      for (let j = 0; j < sides.length; j++) {
        if (i === j) continue;
        for (const a of sides[i]!) for (const b of sides[j]!) this.blockOneWay(a, b);
      }
    }
    if (this.prng.chance(this.faults.resetOnPartition)) {
      for (const c of this.connections)
        if (this.isBlocked(c.from, c.to) || this.isBlocked(c.to, c.from)) this.close(c);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Restores every link to and from one node. */
  reconnect(node: number): void {
    for (const link of [...this.blocked]) {
      const [a, b] = link.split('>').map(Number);
      if (a === node || b === node) this.blocked.delete(link);
    }
  }

  /** A node's process died: its connections end (the peer notices a little later). */
  processDied(node: number): void {
    for (const c of this.connections) if (c.from === node || c.to === node) this.close(c);
  }

  /** Resets one random open connection (a middlebox dropped it). */
  resetOne(): void {
    const open = [...this.connections].filter((c) => c.open);
    if (open.length > 0) this.close(this.prng.pick(open));
  }

  /** The dialer of node `from`'s process (`fromEpoch`) to node `to`. */
  dial(from: number, fromEpoch: number, to: number, events: SocketEvents): LinkSocket {
    const c: Connection = {
      from,
      fromEpoch,
      to,
      toEpoch: undefined,
      open: false,
      closed: false,
      events,
      decoder: new FrameDecoder(this.frameBytesMax),
    };
    this.connections.add(c);
    const at = this.host.now() + 0.3 + this.prng.float() * 1.5;
    this.host.atProcess(at, from, fromEpoch, () => {
      if (c.closed) return;
      const target = this.host.epochOf(to);
      if (target === undefined || this.isBlocked(from, to) || this.isBlocked(to, from)) {
        this.close(c);
        return;
      }
      c.toEpoch = target;
      c.open = true;
      events.open();
    });
    return {
      write: (data) => this.write(c, data),
      bufferedBytes: () => 0,
      close: () => this.close(c),
    };
  }

  private write(c: Connection, data: Uint8Array): void {
    if (!c.open || c.closed) return;
    this.sent++;
    this.bytes += data.length;
    const f = this.faults;
    if (this.isBlocked(c.from, c.to) || this.prng.chance(f.drop)) {
      this.dropped++;
      return;
    }
    const copies = this.prng.chance(f.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let delay = f.delayMinMs + this.prng.float() * (f.delayMaxMs - f.delayMinMs);
      if (f.reorderMaxMs > 0 && this.prng.chance(f.reorder)) delay += this.prng.float() * f.reorderMaxMs;
      this.host.atProcess(this.host.now() + delay, c.to, c.toEpoch!, () => this.arrive(c, data));
    }
  }

  private arrive(c: Connection, data: Uint8Array): void {
    // A link cut while the frames were in flight loses them.
    if (c.closed || this.isBlocked(c.from, c.to)) return;
    // The receiver's decoder gets the bytes in pieces, as a socket would hand them over.
    const cuts = [0, this.prng.int(data.length + 1), this.prng.int(data.length + 1), data.length].sort(
      (a, b) => a - b,
    );
    const frames: Frame[] = [];
    try {
      for (let i = 0; i + 1 < cuts.length; i++) {
        if (cuts[i] === cuts[i + 1]) continue;
        c.decoder.push(data.subarray(cuts[i], cuts[i + 1]), (frame) => frames.push(frame));
      }
    } catch (error) {
      this.host.protocolError((error as Error).message);
      return;
    }
    for (const frame of frames) this.host.deliver(c.to, frame.from, frame.msgs);
  }

  private close(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    c.open = false;
    this.connections.delete(c);
    this.resets++;
    // The dialer hears of it a little later (or never, if its process died).
    this.host.atProcess(this.host.now() + 0.5 + this.prng.float() * 2, c.from, c.fromEpoch, () =>
      c.events.close(),
    );
  }
}
