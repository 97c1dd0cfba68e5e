import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkProxy } from './link-proxy.js';
import { freePort, type ServerProcess, startServerProcess } from './server-process.js';

/**
 * A cluster of real server processes on loopback, for black-box tests and
 * the local `npm run cluster`. Node `i` (1-based) is named `node-i`, serves
 * clients on its own port and, when `proxied`, talks to the other nodes
 * through a `LinkProxy`, so tests can cut links.
 */
export interface ClusterOptions {
  nodes: number;
  /** Route node-to-node traffic through a fault proxy (`cluster.proxy`). */
  proxied?: boolean;
  env?: Record<string, string>;
  secret?: string;
  timeoutMs?: number;
  /** The script each node runs instead of the server's `main.js`. */
  entry?: string;
  /** Called with each node's new data directory before the node first starts (e.g. to mount a small filesystem there). */
  prepareDataDir?: (dir: string, name: string) => void;
}

export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** host:port the other nodes reach it on (its proxy when proxied). */
  readonly address: string;
  dataDir: string;
  server: ServerProcess | undefined;
}

export const TEST_CLUSTER_SECRET = 'a test cluster secret, 32 chars.';

export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  readonly proxy: LinkProxy | undefined;
  private readonly seeds: string[] = [];

  private constructor(private readonly o: ClusterOptions) {
    this.proxy = o.proxied ? new LinkProxy() : undefined;
  }

  /** Starts `nodes` nodes at once and waits until every one is ready (the cluster formed). */
  static async start(o: ClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(o);
    for (let i = 0; i < o.nodes; i++) await cluster.prepare();
    await Promise.all(cluster.nodes.map((_, i) => cluster.startNode(i)));
    return cluster;
  }

  /** Adds one more node (seeded with every address so far) and starts it. */
  async addNode(env: Record<string, string> = {}): Promise<ClusterNode> {
    const node = await this.prepare();
    await this.startNode(this.nodes.length - 1, env);
    return node;
  }

  private async prepare(): Promise<ClusterNode> {
    const index = this.nodes.length;
    const name = `node-${index + 1}`;
    const port = await freePort();
    const linkPort = this.proxy ? await this.proxy.add(name, port) : port;
    const node: ClusterNode = {
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      address: `127.0.0.1:${linkPort}`,
      dataDir: mkdtempSync(join(tmpdir(), `fastpaca-cluster-${name}-`)),
      server: undefined,
    };
    this.o.prepareDataDir?.(node.dataDir, name);
    this.nodes.push(node);
    this.seeds.push(node.address);
    return node;
  }

  env(i: number, extra: Record<string, string> = {}): Record<string, string> {
    const node = this.nodes[i]!;
    return {
      FASTPACA_NODE_NAME: node.name,
      FASTPACA_CLUSTER_SEED: this.seeds.join(','),
      FASTPACA_CLUSTER_SECRET: this.o.secret ?? TEST_CLUSTER_SECRET,
      FASTPACA_ADVERTISE_ADDR: node.address,
      FASTPACA_TOKEN_ESTIMATOR: 'chars:4',
      ...this.o.env,
      ...extra,
    };
  }

  /** Starts node `i` (0-based) on its port and data directory; resolves once it is ready. */
  async startNode(i: number, env: Record<string, string> = {}): Promise<ServerProcess> {
    const node = this.nodes[i]!;
    node.server = await startServerProcess({
      port: node.port,
      dataDir: node.dataDir,
      env: this.env(i, env),
      timeoutMs: this.o.timeoutMs ?? 60_000,
      ...(this.o.entry && { entry: this.o.entry }),
    });
    return node.server;
  }

  /** kill -9. */
  async kill(i: number): Promise<void> {
    await this.nodes[i]!.server?.kill();
    this.nodes[i]!.server = undefined;
  }

  /** Replaces node `i`'s data directory with an empty one (while it is down). */
  wipe(i: number): void {
    const node = this.nodes[i]!;
    rmSync(node.dataDir, { recursive: true, force: true });
    node.dataDir = mkdtempSync(join(tmpdir(), `fastpaca-cluster-${node.name}-`));
  }

  /** Removes everything in node `i`'s data directory but the directory itself (while it is down). */
  empty(i: number): void {
    const dir = this.nodes[i]!.dataDir;
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
  }

  /** Every node's output, for failure messages. */
  output(): string {
    return this.nodes.map((n) => `--- ${n.name}\n${n.server?.output().slice(-4_000) ?? '(down)'}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.server?.kill()));
    await this.proxy?.close();
    for (const n of this.nodes) rmSync(n.dataDir, { recursive: true, force: true });
  }
}
