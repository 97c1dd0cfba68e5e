import { Counter, Gauge, type Registry } from 'prom-client';
import type { Member } from './cluster-state.js';

/** Cluster series (docs/metrics.md): members by state, peers up, whether this node coordinates, changes made. */
export class MembershipMetrics {
  private readonly changes: Counter<'type'>;

  constructor(private readonly registry: Registry) {
    this.changes = new Counter({
      name: 'fastpaca_cluster_changes_total',
      help: 'Changes the coordinator made on this node: add_learner, promote, remove, transfer_leader, destroy, balance.',
      labelNames: ['type'],
      registers: [registry],
    });
  }

  change(type: string): void {
    this.changes.inc({ type });
  }

  observe(read: { coordinator: () => number; members: () => Member[]; up: () => number }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'fastpaca_cluster_coordinator',
      help: '1 while this node is the coordinator (it leads the meta group).',
      registers,
      collect() {
        this.set(read.coordinator());
      },
    });
    new Gauge({
      name: 'fastpaca_cluster_members',
      help: 'Cluster members by state (active, draining, removed, replaced), as this node knows them.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const m of read.members()) this.inc({ state: m.state });
      },
    });
    new Gauge({
      name: 'fastpaca_cluster_peers_up',
      help: 'Other members this node heard from within the last 3 s.',
      registers,
      collect() {
        this.set(read.up());
      },
    });
  }
}
