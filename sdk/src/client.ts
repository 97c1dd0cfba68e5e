import type { ClusterView, DrainResponse } from '@fastpaca/contract';
import { type ClientCore, ContextHandle } from './context-handle.js';
import { credentialProvider } from './http/credentials.js';
import { resolveRetryOptions } from './http/retry-policy.js';
import { Transport } from './http/transport.js';
import type { ClientOptions, ContextOptions, RequestOptions } from './options.js';
import type { OpenSocket } from './stream/socket.js';
import { assert } from './util/assert.js';

/** What differs between runtimes: how a websocket is opened. */
export interface Platform {
  openSocket: OpenSocket;
  socketReportsRefusals: boolean;
}

export interface FastpacaClient {
  readonly baseUrl: string;
  /**
   * Creates the context, or updates its configuration, then returns its
   * handle (one `PUT`, idempotent). Use `contextHandle` for a context that
   * already exists.
   */
  context(id: string, options: ContextOptions & RequestOptions): Promise<ContextHandle>;
  /** A handle on an existing context, without a round trip. */
  contextHandle(id: string): ContextHandle;
  /** The cluster as the answering node sees it: nodes, coordinator, every group's replicas and leader (API key only). */
  cluster(options?: RequestOptions): Promise<ClusterView>;
  /**
   * Starts draining a node: its replicas move elsewhere, then it is removed
   * (watch `cluster()`). Repeating it is harmless. API key only; a
   * `ConflictError` when too few nodes would remain, or on a single node.
   */
  drainNode(name: string, options?: RequestOptions): Promise<DrainResponse>;
}

export function createClientFor(options: ClientOptions, platform: Platform): FastpacaClient {
  assert(
    typeof options?.baseUrl === 'string' && /^https?:\/\/./i.test(options.baseUrl),
    'baseUrl must be an http:// or https:// URL',
  );
  assert(
    options.apiKey === undefined || options.token === undefined,
    'pass apiKey (server side) or token (browsers), not both',
  );
  const fetchImpl = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
  assert(typeof fetchImpl === 'function', 'no global fetch in this runtime; pass options.fetch');
  const timeoutMs = options.timeoutMs ?? 30_000;
  assert(Number.isFinite(timeoutMs) && timeoutMs > 0, 'timeoutMs must be a positive number');
  const { apiKey, token } = options;
  const credential = credentialProvider(token ?? apiKey);
  const random = Math.random;
  const transport = new Transport({
    baseUrl: options.baseUrl,
    credential,
    // Unbound global fetch throws "Illegal invocation" in browsers.
    fetch: options.fetch ?? ((input, init) => fetchImpl(input, init)),
    headers: { ...options.headers },
    retry: resolveRetryOptions(options.retry),
    timeoutMs,
    random,
  });
  const core: ClientCore = {
    transport,
    openSocket: platform.openSocket,
    socketReportsRefusals: platform.socketReportsRefusals,
    credential,
    random,
  };
  return {
    baseUrl: transport.baseUrl,
    async context(id, contextOptions) {
      const handle = new ContextHandle(id, core);
      await handle.configure(contextOptions);
      return handle;
    },
    contextHandle: (id) => new ContextHandle(id, core),
    async cluster(options) {
      return (await transport.call('getCluster', {}, options)).body;
    },
    async drainNode(name, options) {
      return (await transport.call('drainNode', { params: { name } }, options)).body;
    },
  };
}
