import type { GroupId, NodeId } from '../raft/types.js';
import { ReplicationError } from '../replication/errors.js';
import { nodeOfReplica } from '../replication/replica-id.js';
import type { ClientOp } from './history.js';
import type { SimNode, SimProcess } from './sim-node.js';
import { encodeOp, type OpOutcome } from './state-machine.js';
import type { SimWorld } from './world.js';

type Reply =
  | { kind: 'ok'; value: string | null; result: number }
  | { kind: 'redirect'; leader: NodeId | null }
  | { kind: 'retry' };

interface Request {
  readonly client: SimClient;
  readonly op: ClientOp;
  readonly attempt: number;
}

interface SimClient {
  readonly id: number;
  current: ClientOp | null;
  attempt: number;
  readonly hints: Map<GroupId, NodeId>;
  /** A liveness probe client serves one group and never gives up before the deadline. */
  readonly probeGroup: GroupId | null;
}

const ATTEMPT_TIMEOUT_MS = 250;
const MAX_ATTEMPTS = 12;

/**
 * Clients of the simulated cluster. Each submits one operation at a time with
 * a unique id to any node, follows redirects, retries with the same id after
 * a timeout or a retryable error, and gives up after a bounded number of
 * attempts (its outcome then stays unknown). Operations: `put`/`get` on a few
 * registers per group (reads through ReadIndex, also on followers) and
 * `append`/`read_log` on an append-only log, all through the shipping host's
 * `propose` and `readBarrier`.
 */
export class Clients {
  readonly history: ClientOp[] = [];
  private readonly clients: SimClient[] = [];
  private opCounter = 0;

  constructor(private readonly w: SimWorld) {}

  start(count: number): void {
    for (let c = 0; c < count; c++) {
      const client: SimClient = {
        id: this.clients.length,
        current: null,
        attempt: 0,
        hints: new Map(),
        probeGroup: null,
      };
      this.clients.push(client);
      this.w.at(this.w.now() + this.w.prng.float() * 20, () => this.next(client));
    }
  }

  /** One probe per group: each must commit a proposal after the faults stop. */
  startProbes(groups: number): void {
    for (let g = 0; g < groups; g++) {
      const client: SimClient = {
        id: this.clients.length,
        current: null,
        attempt: 0,
        hints: new Map(),
        probeGroup: g,
      };
      this.clients.push(client);
      this.next(client);
    }
  }

  idle(): boolean {
    return this.clients.every((c) => c.current === null);
  }

  /** Groups whose liveness probe has not committed yet. */
  pendingProbes(): GroupId[] {
    return this.clients.filter((c) => c.probeGroup !== null && c.current !== null).map((c) => c.probeGroup!);
  }

  private next(c: SimClient): void {
    if (c.current !== null) return;
    if (c.probeGroup === null && !this.w.faultsOn()) return;
    const s = this.w.scenario;
    const p = this.w.prng;
    const group = c.probeGroup ?? p.int(s.activeGroups);
    const id = `c${c.id}-${++this.opCounter}`;
    let kind: ClientOp['kind'];
    if (c.probeGroup !== null) kind = 'probe';
    else {
      const read = p.chance(s.readShare);
      const onLog = p.chance(0.4);
      kind = read ? (onLog ? 'read_log' : 'get') : onLog ? 'append' : 'put';
    }
    const op: ClientOp = {
      id,
      client: c.id,
      group,
      kind,
      key: `k${p.int(s.keys)}`,
      value: kind === 'put' ? id : null,
      invoke: this.w.now(),
      complete: Number.POSITIVE_INFINITY,
      acked: false,
      result: -1,
    };
    this.history.push(op);
    c.current = op;
    c.attempt = 0;
    this.attempt(c);
  }

  private attempt(c: SimClient): void {
    const op = c.current!;
    if (c.attempt >= MAX_ATTEMPTS && c.probeGroup === null) {
      this.finish(c, false);
      return;
    }
    c.attempt++;
    const p = this.w.prng;
    const hint = c.hints.get(op.group);
    const hinted = hint !== undefined ? this.w.nodes.find((n) => n.id === nodeOfReplica(hint)) : undefined;
    const target = hinted && p.chance(0.8) ? hinted : p.pick(this.w.nodes);
    const req: Request = { client: c, op, attempt: c.attempt };
    if (!p.chance(this.w.faultsOn() ? this.w.scenario.network.drop : 0)) {
      this.w.atNode(this.w.now() + 0.2 + p.float() * 2, target, (proc) => this.serve(target, proc, req));
    }
    const attempt = c.attempt;
    this.w.at(this.w.now() + ATTEMPT_TIMEOUT_MS, () => {
      if (c.current?.id === op.id && c.attempt === attempt) this.attempt(c);
    });
  }

  private finish(c: SimClient, acked: boolean): void {
    const op = c.current!;
    if (acked) {
      op.acked = true;
      op.complete = this.w.now();
      if (op.kind === 'get' || op.kind === 'read_log') this.w.stats.readsAcked++;
      else this.w.stats.opsAcked++;
    } else {
      this.w.stats.opsUnknown++;
    }
    c.current = null;
    // A liveness probe is a single operation.
    if (c.probeGroup !== null) return;
    this.w.at(this.w.now() + this.w.prng.float() * this.w.scenario.clientThinkMaxMs, () => this.next(c));
  }

  private onReply(req: Request, reply: Reply): void {
    const c = req.client;
    const op = c.current;
    if (op === null || op.id !== req.op.id) return;
    if (reply.kind === 'ok') {
      // Any attempt's success is the operation's: retries share the id and apply at most once.
      if (op.kind === 'get') op.value = reply.value;
      op.result = reply.result;
      this.finish(c, true);
      if (c.probeGroup !== null) this.w.trace(`liveness probe for group ${c.probeGroup} committed`);
      return;
    }
    if (req.attempt !== c.attempt) return;
    if (reply.kind === 'redirect' && reply.leader !== null) c.hints.set(op.group, reply.leader);
    else c.hints.delete(op.group);
    const backoff = reply.kind === 'redirect' && reply.leader !== null ? 1 : 20;
    const attempt = req.attempt;
    this.w.at(this.w.now() + backoff * (0.5 + this.w.prng.float()), () => {
      if (c.current?.id === op.id && c.attempt === attempt) this.attempt(c);
    });
  }

  private reply(req: Request, reply: Reply): void {
    if (this.w.faultsOn() && this.w.prng.chance(this.w.scenario.network.drop)) return;
    this.w.at(this.w.now() + 0.2 + this.w.prng.float() * 2, () => this.onReply(req, reply));
  }

  private refused(req: Request, error: unknown): void {
    if (error instanceof ReplicationError && error.kind === 'not_leader') {
      this.reply(req, { kind: 'redirect', leader: error.leader });
    } else {
      this.reply(req, { kind: 'retry' });
    }
  }

  /** A node receives a client request: propose it, or run a linearizable read. */
  private serve(node: SimNode, proc: SimProcess, req: Request): void {
    const op = req.op;
    const host = proc.host;
    if (!host.hosts(op.group)) {
      this.reply(req, { kind: 'redirect', leader: null });
      return;
    }
    if (op.kind === 'get' || op.kind === 'read_log') {
      host.readBarrier(op.group).then(
        () => {
          if (node.proc !== proc) return;
          const sm = proc.machines.get(op.group);
          if (!sm) return;
          if (op.kind === 'get') this.reply(req, { kind: 'ok', value: sm.kv.get(op.key) ?? null, result: 0 });
          else this.reply(req, { kind: 'ok', value: null, result: sm.log.length });
        },
        (error) => this.refused(req, error),
      );
      return;
    }
    const data = encodeOp({ id: op.id, kind: op.kind, key: op.key, value: op.value ?? '' });
    host.propose(op.group, data).then(
      (out) => {
        const outcome = out as OpOutcome;
        if (outcome?.op?.id !== op.id) {
          this.w.violation(
            'acknowledgement',
            `${node.id}: proposal ${op.id} was acknowledged with the outcome of ${outcome?.op?.id ?? 'an entry without one'}`,
          );
          return;
        }
        this.reply(req, { kind: 'ok', value: null, result: outcome.result });
      },
      (error) => this.refused(req, error),
    );
  }
}
