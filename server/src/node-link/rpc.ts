import type { Runtime } from '../util/runtime.js';

/**
 * Requests between nodes over the node link, with correlation ids and
 * deadlines. A request goes out on this node's link to the callee, the
 * answer comes back on the callee's link to this node.
 */
export interface RpcRequest {
  readonly ch: 'rpc';
  readonly t: 'q';
  readonly id: number;
  readonly m: string;
  /** Milliseconds the caller will still wait: the callee's deadline. */
  readonly ms: number;
  readonly b: unknown;
}

export interface RpcResponse {
  readonly ch: 'rpc';
  readonly t: 'r';
  readonly id: number;
  readonly ok: boolean;
  readonly b: unknown;
}

export type RpcMessage = RpcRequest | RpcResponse;

export function isRpcMessage(m: unknown): m is RpcMessage {
  return (m as { ch?: unknown } | null)?.ch === 'rpc';
}

/**
 * `not_sent`: the request never left this node (no link, full queue, lost
 * before it was written), so the callee never saw it. `no_answer`: it was
 * written but no answer came in time or the connection was lost: it may have
 * run. `remote`: the callee's handler failed; `payload` says how.
 */
export type RpcFailure = 'not_sent' | 'no_answer' | 'remote';

export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly kind: RpcFailure,
    readonly node: string,
    message: string,
    readonly payload?: unknown,
  ) {
    super(message);
  }
}

export type RpcHandler = (from: string, body: unknown, deadlineMs: number) => Promise<unknown>;

export interface RpcOptions {
  /** Sends a message to a node (the node link); see `NodeLink.send`. */
  send: (node: string, message: RpcMessage, onDropped?: () => void) => boolean;
  runtime: Runtime;
  /** How a handler's error travels (decoded by the caller from `RpcError.payload`). */
  encodeError: (error: unknown) => unknown;
  /** Requests this node runs, by method. */
  handlers: Record<string, RpcHandler>;
  /** Requests in flight per callee are bounded; beyond it a call fails `not_sent`. */
  in_flight_max?: number;
}

interface Pending {
  readonly node: string;
  resolve(value: unknown): void;
  reject(error: RpcError): void;
  cancelTimer(): void;
  dropped: boolean;
}

export class Rpc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly o: RpcOptions) {}

  /** Adds (or replaces) the handler of `method`. */
  register(method: string, handler: RpcHandler): void {
    this.o.handlers[method] = handler;
  }

  /** Calls `method` on `node`; waits at most `timeoutMs` for the answer. */
  call<T>(node: string, method: string, body: unknown, timeoutMs: number): Promise<T> {
    const limit = this.o.in_flight_max ?? 10_000;
    if ((this.inFlight.get(node) ?? 0) >= limit) {
      return Promise.reject(new RpcError('not_sent', node, `too many requests in flight to ${node}`));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        node,
        resolve: resolve as (v: unknown) => void,
        reject,
        cancelTimer: () => {},
        dropped: false,
      };
      const fail = (kind: RpcFailure, message: string) => {
        if (!this.settle(id)) return;
        reject(new RpcError(kind, node, message));
      };
      this.pending.set(id, entry);
      this.inFlight.set(node, (this.inFlight.get(node) ?? 0) + 1);
      entry.cancelTimer = this.o.runtime.setTimer(timeoutMs, () =>
        fail('no_answer', `${node} did not answer ${method} within ${timeoutMs} ms`),
      );
      const request: RpcRequest = { ch: 'rpc', t: 'q', id, m: method, ms: timeoutMs, b: body };
      const queued = this.o.send(node, request, () => {
        entry.dropped = true;
        fail('not_sent', `the link to ${node} was lost before ${method} was sent`);
      });
      if (!queued) fail('not_sent', `no link to ${node} can take ${method} now`);
    });
  }

  /** The connection to `node` was lost: what was written to it gets no answer. */
  peerLost(node: string): void {
    for (const [id, p] of this.pending) {
      if (p.node !== node || p.dropped) continue;
      this.settle(id);
      p.reject(new RpcError('no_answer', node, `the link to ${node} was lost before it answered`));
    }
  }

  /** A message with `ch: 'rpc'` from `from`. */
  receive(from: string, message: RpcMessage): void {
    if (message.t === 'r') {
      const p = this.pending.get(message.id);
      if (!p || p.node !== from) return;
      this.settle(message.id);
      if (message.ok) p.resolve(message.b);
      else p.reject(new RpcError('remote', from, `${from} failed the request`, message.b));
      return;
    }
    const handler = this.o.handlers[message.m];
    const reply = (ok: boolean, b: unknown) => {
      const response: RpcResponse = { ch: 'rpc', t: 'r', id: message.id, ok, b };
      this.o.send(from, response);
    };
    if (!handler) {
      reply(false, this.o.encodeError(new Error(`unknown request ${message.m}`)));
      return;
    }
    const deadline = Math.max(0, Math.min(message.ms, 600_000));
    handler(from, message.b, deadline).then(
      (value) => reply(true, value),
      (error: unknown) => reply(false, this.o.encodeError(error)),
    );
  }

  /** Fails every call in flight (shutdown). */
  failAll(message: string): void {
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(new RpcError(p.dropped ? 'not_sent' : 'no_answer', p.node, message));
    }
  }

  private settle(id: number): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.cancelTimer();
    const n = (this.inFlight.get(p.node) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(p.node);
    else this.inFlight.set(p.node, n);
    return true;
  }
}
