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

  /** Restores every link; frozen connections are closed so both ends reconnect. */
  heal(): void {
    this.cut.clear();
    for (const c of this.connections) if (c.frozen) c.destroy();
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
      const c = new Connection(from, to, client);
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
  private upstream: Socket | undefined;

  constructor(
    readonly from: string,
    readonly to: string,
    private readonly client: Socket,
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
      upstream.write(head);
      this.client.on('data', (d: Buffer) => {
        if (!this.frozen) upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        if (!this.frozen) this.client.write(d);
      });
      this.client.resume();
    });
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
