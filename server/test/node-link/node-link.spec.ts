import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hello } from '../../src/node-link/handshake.js';
import { LINK_PATH, LINK_PROTOCOL } from '../../src/node-link/handshake.js';
import { NodeLink, type NodeLinkOptions } from '../../src/node-link/node-link.js';
import { isRpcMessage, Rpc, RpcError } from '../../src/node-link/rpc.js';
import { systemRuntime } from '../../src/util/runtime.js';

interface TestNode {
  id: string;
  link: NodeLink;
  server: Server;
  address: string;
  got: [string, unknown][];
  refusedBy: string[];
  close(): Promise<void>;
}

const open: TestNode[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close()));
});

const until = async (cond: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function node(
  id: string,
  o: {
    secret?: string;
    cluster?: string | null;
    admit?: (p: Hello) => string | undefined;
    port?: number;
  } & Partial<NodeLinkOptions> = {},
): Promise<TestNode> {
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end('not here');
  });
  await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const address = `127.0.0.1:${port}`;
  const got: [string, unknown][] = [];
  const refusedBy: string[] = [];
  const link = new NodeLink({
    secret: o.secret ?? 'a shared secret of some length',
    identity: () => ({ node: id, cluster: o.cluster === undefined ? 'c1' : o.cluster, address }),
    admit: o.admit ?? (() => undefined),
    onMessages: (peer, msgs) => {
      for (const m of msgs) got.push([peer.node, m]);
    },
    reconnect_delay_min_ms: 10,
    reconnect_delay_max_ms: 50,
    hello_timeout_ms: o.hello_timeout_ms ?? 300,
    ...o,
  });
  server.on('upgrade', (req, socket, head) => {
    if (NodeLink.isLinkRequest(req)) link.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const n: TestNode = {
    id,
    link,
    server,
    address,
    got,
    refusedBy,
    close: async () => {
      link.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  open.push(n);
  return n;
}

describe('node link – authenticated HTTP upgrade on the REST port', () => {
  it('carries messages both ways, in order, with binary data intact, once both sides proved the secret', async () => {
    const a = await node('a');
    const b = await node('b');
    a.link.setPeer('b', b.address);
    b.link.setPeer('a', a.address);
    for (let i = 0; i < 50; i++) a.link.send('b', { n: i, data: new Uint8Array([i, 255 - i]) });
    b.link.send('a', { hi: true });
    await until(() => b.got.length === 50 && a.got.length === 1);
    expect(b.got.map(([from]) => from)).toEqual(Array(50).fill('a'));
    expect(b.got.map(([, m]) => (m as { n: number }).n)).toEqual([...Array(50).keys()]);
    expect(Array.from((b.got[7]![1] as { data: Uint8Array }).data)).toEqual([7, 248]);
    expect(a.got).toEqual([['b', { hi: true }]]);
    expect(b.link.lastHeard('a')).toBeGreaterThan(0);
  });

  it('refuses a peer with another secret: nothing it sends is delivered, and a probe says why', async () => {
    const a = await node('a', { secret: 'the wrong secret entirely!' });
    const b = await node('b');
    a.link.setPeer('b', b.address);
    for (let i = 0; i < 10; i++) a.link.send('b', { n: i });
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got).toEqual([]);
    await expect(a.link.probe(b.address)).rejects.toThrow(/could not prove it knows FASTPACA_CLUSTER_SECRET/);
    await expect(b.link.probe(a.address)).rejects.toThrow(/could not prove/);
  });

  it('a peer the acceptor does not admit (another cluster) is told why and delivers nothing', async () => {
    const b = await node('b', {
      admit: (p) => (p.cluster === 'c1' ? undefined : `belongs to cluster ${p.cluster}, not c1`),
    });
    const a = await node('a', { cluster: 'c2' });
    a.link.setPeer('b', b.address);
    a.link.send('b', { n: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got).toEqual([]);
    // The probe itself is answered (it proves identities, nothing more): it shows the other cluster.
    expect((await a.link.probe(b.address)).cluster).toBe('c1');
  });

  it('reports another node answering at a peer address instead of talking to it', async () => {
    const b = await node('b');
    const mismatches: [string, string][] = [];
    const a = await node('a', {
      onIdentityMismatch: (expected, found) => mismatches.push([expected, found.node]),
    });
    a.link.setPeer('old-b', b.address);
    a.link.send('old-b', { n: 1 });
    await until(() => mismatches.length > 0);
    expect(mismatches[0]).toEqual(['old-b', 'b']);
    expect(b.got).toEqual([]);
  });

  it('closes an upgraded connection that never proves the secret', async () => {
    const b = await node('b');
    const port = Number(b.address.split(':')[1]);
    const raw = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.on('error', () => {});
    raw.resume();
    raw.write(
      `GET ${LINK_PATH} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${LINK_PROTOCOL}\r\n` +
        'x-fastpaca-node: mallory\r\nx-fastpaca-cluster: c1\r\n' +
        `x-fastpaca-nonce: ${'0'.repeat(32)}\r\nx-fastpaca-address: 127.0.0.1:1\r\n\r\n`,
    );
    await closed;
    expect(b.got).toEqual([]);
  });

  it('drops instead of growing without bound while a peer is unreachable', async () => {
    const a = await node('a', { queue_messages_max: 10 });
    a.link.setPeer('nowhere', '127.0.0.1:1');
    const accepted = Array.from({ length: 50 }, (_, i) => a.link.send('nowhere', i)).filter(Boolean).length;
    expect(accepted).toBe(10);
    expect(a.link.send('unknown-peer', 1)).toBe(false);
  });

  it('closes a link that sends an oversize frame, and keeps serving the others', async () => {
    const b = await node('b', { frame_bytes_max: 4_096 });
    const a = await node('a');
    const c = await node('c');
    a.link.setPeer('b', b.address);
    c.link.setPeer('b', b.address);
    a.link.send('b', { big: new Uint8Array(10_000) });
    c.link.send('b', 'still works');
    await until(() => b.got.some(([, m]) => m === 'still works'));
    await new Promise((r) => setTimeout(r, 100));
    expect(b.got.some(([from]) => from === 'a')).toBe(false);
  });

  it('reconnects after the peer restarts on the same port', async () => {
    const b1 = await node('b');
    const a = await node('a');
    a.link.setPeer('b', b1.address);
    a.link.send('b', 1);
    await until(() => b1.got.length === 1);
    const port = Number(b1.address.split(':')[1]);
    await b1.close();
    const b2 = await node('b', { port });
    expect(b2.address).toBe(b1.address);
    await until(() => {
      a.link.send('b', 2);
      return b2.got.some(([, m]) => m === 2);
    });
  });

  it('answers a plain HTTP request to the link path and a malformed hello with an error, not a link', async () => {
    const b = await node('b');
    const res = await fetch(`http://${b.address}${LINK_PATH}`, {
      headers: { connection: 'Upgrade', upgrade: LINK_PROTOCOL },
    }).catch((e: Error) => e);
    // fetch cannot upgrade; what matters is that the server did not take the request as a link.
    expect(res instanceof Error || res.status >= 400).toBe(true);
    const raw = connect({ host: '127.0.0.1', port: Number(b.address.split(':')[1]) });
    let answer = '';
    raw.on('data', (d) => {
      answer += d.toString();
    });
    raw.write(
      `GET ${LINK_PATH} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${LINK_PROTOCOL}\r\n\r\n`,
    );
    await until(() => answer.includes('\r\n\r\n'));
    expect(answer).toMatch(/^HTTP\/1.1 400/);
    expect(answer).toMatch(/x-fastpaca-node/);
    raw.destroy();
  });
});

describe('node link – requests with deadlines', () => {
  async function rpcNode(
    id: string,
    handlers: Record<string, (from: string, body: unknown) => Promise<unknown>>,
  ) {
    let rpc: Rpc | undefined;
    const n = await node(id, {
      onMessages: (peer, msgs) => {
        for (const m of msgs) if (isRpcMessage(m)) rpc!.receive(peer.node, m);
      },
      onPeerLost: (peer) => rpc?.peerLost(peer),
    });
    rpc = new Rpc({
      send: (to, m, onDropped) => n.link.send(to, m, onDropped),
      runtime: systemRuntime,
      encodeError: (e) => ({ message: (e as Error).message }),
      handlers,
    });
    return { ...n, rpc };
  }

  it('answers a request, and carries a handler failure back as a remote error', async () => {
    const a = await rpcNode('a', {});
    const b = await rpcNode('b', {
      echo: async (from, body) => ({ from, body }),
      boom: async () => {
        throw new Error('no such thing');
      },
    });
    a.link.setPeer('b', b.address);
    b.link.setPeer('a', a.address);
    expect(await a.rpc.call('b', 'echo', { x: 1 }, 2_000)).toEqual({ from: 'a', body: { x: 1 } });
    const error = (await a.rpc.call('b', 'boom', {}, 2_000).catch((e) => e)) as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.kind).toBe('remote');
    expect(error.payload).toEqual({ message: 'no such thing' });
    const unknown = (await a.rpc.call('b', 'nope', {}, 2_000).catch((e) => e)) as RpcError;
    expect(unknown.payload).toEqual({ message: 'unknown request nope' });
  });

  it('fails not_sent when the callee cannot be reached, and no_answer when it dies after the request was written', async () => {
    const a = await rpcNode('a', {});
    a.link.setPeer('ghost', '127.0.0.1:1');
    const notSent = (await a.rpc.call('ghost', 'echo', {}, 2_000).catch((e) => e)) as RpcError;
    expect(notSent.kind).toBe('not_sent');
    expect(((await a.rpc.call('nobody', 'echo', {}, 2_000).catch((e) => e)) as RpcError).kind).toBe(
      'not_sent',
    );

    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const b = await rpcNode('b', {
      slow: () => {
        started();
        return new Promise(() => {});
      },
    });
    a.link.setPeer('b', b.address);
    b.link.setPeer('a', a.address);
    const call = a.rpc.call('b', 'slow', {}, 10_000).catch((e: unknown) => e as RpcError);
    await running;
    const t0 = Date.now();
    await b.close();
    const lost = (await call) as RpcError;
    expect(lost.kind).toBe('no_answer');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('times out a request that gets no answer', async () => {
    const a = await rpcNode('a', {});
    const b = await rpcNode('b', { never: () => new Promise(() => {}) });
    a.link.setPeer('b', b.address);
    b.link.setPeer('a', a.address);
    const error = (await a.rpc.call('b', 'never', {}, 200).catch((e) => e)) as RpcError;
    expect(error.kind).toBe('no_answer');
    expect(error.message).toMatch(/did not answer never within 200 ms/);
  });
});
