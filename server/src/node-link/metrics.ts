import { Counter, Gauge, type Registry } from 'prom-client';
import type { LinkErrorReason } from './node-link.js';

/** Node link series (docs/metrics.md): bytes each way, failures by reason, connected peers. */
export class NodeLinkMetrics {
  private readonly byteCount: Counter<'direction'>;
  private readonly errors: Counter<'reason'>;

  constructor(private readonly registry: Registry) {
    const registers = [registry];
    this.byteCount = new Counter({
      name: 'fastpaca_node_link_bytes_total',
      help: 'Bytes sent to (out) and received from (in) other nodes over the node link.',
      labelNames: ['direction'],
      registers,
    });
    this.errors = new Counter({
      name: 'fastpaca_node_link_errors_total',
      help: 'Node link connections that failed or were refused, by reason (connect, auth, refused, protocol, identity).',
      labelNames: ['reason'],
      registers,
    });
  }

  bytes(direction: 'in' | 'out', n: number): void {
    this.byteCount.inc({ direction }, n);
  }

  error(reason: LinkErrorReason): void {
    this.errors.inc({ reason });
  }

  observe(read: { connected: () => number; peers: () => number }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'fastpaca_node_link_peers_connected',
      help: 'Peers this node has an open outbound connection to.',
      registers,
      collect() {
        this.set(read.connected());
      },
    });
    new Gauge({
      name: 'fastpaca_node_link_peers',
      help: 'Peers this node dials.',
      registers,
      collect() {
        this.set(read.peers());
      },
    });
  }
}
