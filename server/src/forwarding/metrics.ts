import { Counter, type Registry } from 'prom-client';

/** Forwarding series (docs/metrics.md). */
export class ForwardingMetrics {
  private readonly out: Counter<'kind' | 'outcome'>;
  private readonly served: Counter<'kind'>;

  constructor(registry: Registry) {
    this.out = new Counter({
      name: 'fastpaca_forwarded_requests_total',
      help: 'Attempts this node sent to another node (the group leader or a replica), by kind (execute, read) and outcome (ok, retried, failed).',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    });
    this.served = new Counter({
      name: 'fastpaca_forwarded_served_total',
      help: 'Requests other nodes forwarded to this one, by kind (execute, read).',
      labelNames: ['kind'],
      registers: [registry],
    });
  }

  forwarded(kind: 'execute' | 'read', outcome: 'ok' | 'retried' | 'failed'): void {
    this.out.inc({ kind, outcome });
  }

  servedFor(kind: 'execute' | 'read'): void {
    this.served.inc({ kind });
  }
}
