import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A fault proxy for the node link, for black-box tests: each node advertises
 * (and is seeded as) the address of its proxy, which forwards to the node's
 * real port. A node link connection starts with an HTTP upgrade naming the
 * dialling node (`x-fastpaca-node`), so the proxy knows both ends of every
 * connection and can cut any pair: their open connections go silent (no byte
 * passes, as in a real partition, where TCP just stalls) and new ones hang.
 * Clients talk to the nodes' real ports and are never affected.
 */
export class LinkProxy {
  private readonly servers = new Map<string, { server: Server; port: number }>();
  private readonly connections = new Set<Connection>();
  private readonly cut = new Set<string>();
  /** Directed cuts, `from>to`: bytes from `from` to `to` are dropped. */
  private readonly dropped = new Set<string>();
  /** Added one-way delay per pair, in ms. */
  private readonly delays = new Map<string, number>();

  /** Starts a proxy in front of `node` (its name) listening on `port` (0: any), forwarding to `target`. */
  async add(node: string, target: number, port = 0): Promise<number> {
    const server = createServer((socket) => this.accept(node, target, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const bound = (server.address() as { port: number }).port;
    this.servers.set(node, { server, port: bound });
    return bound;
  }

  portOf(node: string): number {
    const entry = this.servers.get(node);
    if (!entry) throw new Error(`no proxy for ${node}`);
    return entry.port;
  }

  /** Cuts the link between `a` and `b`, both ways. */
  partition(a: string, b: string): void {
    this.cut.add(pair(a, b));
    for (const c of this.connections) if (c.between(a, b)) c.freeze();
  }

  /** Cuts `node` off from every other node. */
  isolate(node: string): void {
    for (const other of this.servers.keys()) if (other !== node) this.partition(node, other);
  }

  /**
   * Drops every byte `from` sends to `to` (one-way loss); `to` still reaches
   * `from`. Open connections between them are affected at once.
   */
  dropOneWay(from: string, to: string): void {
    this.dropped.add(`${from}>${to}`);
  }

  /** Delays every byte between `a` and `b`, each way, by `ms` (order is kept). */
  delay(a: string, b: string, ms: number): void {
    if (ms > 0) this.delays.set(pair(a, b), ms);
    else this.delays.delete(pair(a, b));
  }

  /** Restores every link; connections that lost bytes are closed so both ends reconnect. */
  heal(): void {
    this.cut.clear();
    this.dropped.clear();
    this.delays.clear();
    for (const c of this.connections) if (c.frozen || c.lossy) c.destroy();
  }

  /** Whether bytes from `from` to `to` are dropped now. */
  drops(from: string, to: string): boolean {
    return this.dropped.has(`${from}>${to}`);
  }

  delayOf(a: string, b: string): number {
    return this.delays.get(pair(a, b)) ?? 0;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await Promise.all(
      [...this.servers.values()].map(({ server }) => new Promise<void>((r) => server.close(() => r()))),
    );
    this.servers.clear();
  }

  private accept(to: string, target: number, client: Socket): void {
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < 16_384) return;
      client.off('data', onData);
      client.pause();
      const match = /\r\nx-fastpaca-node: ([^\r\n~]+)/i.exec(
        head.subarray(0, Math.max(end, 0)).toString('latin1'),
      );
      const from = match?.[1] ?? '?';
      const c = new Connection(from, to, client, this);
      this.connections.add(c);
      client.once('close', () => this.connections.delete(c));
      if (this.cut.has(pair(from, to))) {
        c.freeze();
        return;
      }
      c.open(target, head);
    };
    client.on('data', onData);
  }
}

class Connection {
  frozen = false;
  /** Some bytes were dropped: the stream is broken and must not outlive a heal. */
  lossy = false;
  private upstream: Socket | undefined;
  /** When the last delayed chunk of each direction goes out, so order is kept. */
  private readonly nextSend = { up: 0, down: 0 };

  constructor(
    readonly from: string,
    readonly to: string,
    private readonly client: Socket,
    private readonly faults: Pick<LinkProxy, 'drops' | 'delayOf'>,
  ) {}

  between(a: string, b: string): boolean {
    return (this.from === a && this.to === b) || (this.from === b && this.to === a);
  }

  open(port: number, head: Buffer): void {
    const upstream = connect({ host: '127.0.0.1', port });
    this.upstream = upstream;
    upstream.on('error', () => this.destroy());
    this.client.on('error', () => this.destroy());
    upstream.once('close', () => this.destroy());
    this.client.once('close', () => this.destroy());
    upstream.once('connect', () => {
      if (this.frozen) return;
      this.relay('up', head);
      this.client.on('data', (d: Buffer) => this.relay('up', d));
      upstream.on('data', (d: Buffer) => this.relay('down', d));
      this.client.resume();
    });
  }

  /** Passes a chunk on (`up`: from the dialling node to the listening one), unless a fault says otherwise. */
  private relay(direction: 'up' | 'down', chunk: Buffer): void {
    if (this.frozen) return;
    const [sender, receiver] = direction === 'up' ? [this.from, this.to] : [this.to, this.from];
    if (this.faults.drops(sender, receiver)) {
      this.lossy = true;
      return;
    }
    const socket = direction === 'up' ? this.upstream : this.client;
    const delay = this.faults.delayOf(sender, receiver);
    if (delay === 0 && this.nextSend[direction] <= Date.now()) {
      socket?.write(chunk);
      return;
    }
    const at = Math.max(this.nextSend[direction], Date.now() + delay);
    this.nextSend[direction] = at;
    setTimeout(() => {
      if (!this.frozen && !socket?.destroyed) socket?.write(chunk);
    }, at - Date.now());
  }

  /** No byte passes any more, either way; both ends see a silent peer. */
  freeze(): void {
    this.frozen = true;
  }

  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
  }
}

function pair(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
