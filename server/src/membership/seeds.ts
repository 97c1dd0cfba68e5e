import { lookup } from 'node:dns/promises';
import type { Logger } from 'pino';
import { formatAddress, parseAddress } from '../node-link/address.js';
import type { Hello } from '../node-link/handshake.js';
import type { NodeId } from '../raft/index.js';
import { nodeNameOf } from '../replication/replica-id.js';
import type { Runtime } from '../util/runtime.js';
import type { SeenNode } from './formation.js';

/** How often a member checks that its seeds are still of its own cluster. */
const SEED_CHECK_MS = 30_000;

export interface SeedsOptions {
  readonly self: NodeId;
  /** host:port, as configured (a DNS name may list every node). */
  readonly seeds: readonly string[];
  readonly probe: (address: string) => Promise<Hello>;
  readonly clusterId: () => string | null;
  readonly runtime: Runtime;
  readonly logger: Logger;
}

/** The configured seeds: who answers at them, and whether they still belong to this node's cluster. */
export class Seeds {
  private checkedAt = Number.NEGATIVE_INFINITY;
  private readonly foreignLogged = new Set<string>();

  constructor(private readonly o: SeedsOptions) {}

  /** Seeds, resolved now, probed for who answers (this node left out). */
  async probe(): Promise<SeenNode[]> {
    const addresses = new Set<string>();
    for (const seed of this.o.seeds) {
      const parsed = parseAddress(seed);
      if (!parsed) continue;
      try {
        const found = await lookup(parsed.host, { all: true });
        for (const a of found) addresses.add(formatAddress({ host: a.address, port: parsed.port }));
      } catch {
        addresses.add(seed);
      }
    }
    const seen: SeenNode[] = [];
    await Promise.all(
      [...addresses].map(async (address) => {
        try {
          const hello = await this.o.probe(address);
          if (hello.node === this.o.self) return;
          seen.push({
            id: hello.node,
            name: nodeNameOf(hello.node),
            cluster: hello.cluster,
            address: hello.address,
          });
        } catch {}
      }),
    );
    return seen;
  }

  checkDue(): boolean {
    return this.o.runtime.now() - this.checkedAt >= SEED_CHECK_MS;
  }

  /**
   * A member whose seeds answer for another cluster is misconfigured (two
   * clusters given one seed list, or a data directory from elsewhere): it
   * stays in its own cluster and says so, once per foreign node.
   */
  async check(): Promise<void> {
    this.checkedAt = this.o.runtime.now();
    const mine = this.o.clusterId();
    for (const seen of await this.probe()) {
      if (seen.cluster === null || seen.cluster === mine) continue;
      const key = `${seen.id}|${seen.cluster}`;
      if (this.foreignLogged.has(key)) continue;
      this.foreignLogged.add(key);
      this.o.logger.error(
        { type: 'seed_of_other_cluster', peer: seen.name, peer_cluster: seen.cluster },
        `FASTPACA_CLUSTER_SEED reaches node ${seen.name} (${seen.address}) of cluster ${seen.cluster}, ` +
          `but this node belongs to cluster ${mine}; it stays out of that cluster. Point the seed ` +
          'at this cluster, or give this node a fresh FASTPACA_RAFT_DATA_DIR to join that one',
      );
    }
  }
}
