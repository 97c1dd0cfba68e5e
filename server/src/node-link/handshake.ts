import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The node link's handshake. A node dials a peer with an HTTP upgrade to
 * `LINK_PROTOCOL` on the REST port; each side then proves it knows the
 * cluster secret by an HMAC over both sides' fresh nonces and identities, so
 * a proof can be neither replayed nor reflected:
 *
 *   dialer   → GET /cluster/link, Upgrade: fastpaca-node-link/1, its hello (node, cluster, nonce, address)
 *   acceptor → 101 with its hello and its proof
 *   dialer   → first frame: its proof; the acceptor believes nothing before it
 *
 * The secret authenticates; it does not encrypt. Run node traffic on a
 * private network (see docs/cluster.md).
 */
export const LINK_PATH = '/cluster/link';
export const LINK_PROTOCOL = 'fastpaca-node-link/1';

export const HEADER = {
  node: 'x-fastpaca-node',
  cluster: 'x-fastpaca-cluster',
  nonce: 'x-fastpaca-nonce',
  address: 'x-fastpaca-address',
  proof: 'x-fastpaca-proof',
} as const;

/** What a side says about itself; `cluster` is null before the node joined one. */
export interface Hello {
  readonly node: string;
  readonly cluster: string | null;
  readonly nonce: string;
  /** host:port the other nodes reach this one on. */
  readonly address: string;
}

const NODE_ID = /^[A-Za-z0-9._~-]{1,160}$/;
const CLUSTER_ID = /^[A-Za-z0-9-]{1,64}$/;
const NONCE = /^[0-9a-f]{32}$/;
const ADDRESS = /^[A-Za-z0-9.:[\]-]{1,300}$/;

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export function helloHeaders(hello: Hello): Record<string, string> {
  return {
    [HEADER.node]: hello.node,
    [HEADER.cluster]: hello.cluster ?? '-',
    [HEADER.nonce]: hello.nonce,
    [HEADER.address]: hello.address,
  };
}

/** Reads a hello from headers; a string says what is wrong with them. */
export function parseHello(headers: Record<string, string | string[] | undefined>): Hello | string {
  const get = (name: string) => {
    const v = headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const node = get(HEADER.node);
  const cluster = get(HEADER.cluster);
  const nonce = get(HEADER.nonce);
  const address = get(HEADER.address);
  if (!node || !NODE_ID.test(node)) return `missing or malformed ${HEADER.node}`;
  if (!cluster || (cluster !== '-' && !CLUSTER_ID.test(cluster)))
    return `missing or malformed ${HEADER.cluster}`;
  if (!nonce || !NONCE.test(nonce)) return `missing or malformed ${HEADER.nonce}`;
  if (!address || !ADDRESS.test(address)) return `missing or malformed ${HEADER.address}`;
  return { node, cluster: cluster === '-' ? null : cluster, nonce, address };
}

/**
 * The proof of one side. Binding the role, both nonces and both identities
 * means a proof is good for this one connection, in this one direction.
 */
export function proof(secret: string, role: 'dialer' | 'acceptor', dialer: Hello, acceptor: Hello): string {
  const canonical = [
    LINK_PROTOCOL,
    role,
    dialer.node,
    dialer.cluster ?? '-',
    dialer.nonce,
    acceptor.node,
    acceptor.cluster ?? '-',
    acceptor.nonce,
  ].join('\n');
  return createHmac('sha256', secret).update(canonical).digest('hex');
}

export function proofMatches(expected: string, received: unknown): boolean {
  if (typeof received !== 'string' || received.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(received));
}
