import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpTransport } from '../../src/node-link/tcp-transport.js';

const open: TcpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function node(id: string, port = 0, onMessages = (_from: string, _m: unknown[]) => {}) {
  const t = new TcpTransport({ nodeId: id, host: '127.0.0.1', port, onMessages, reconnect_delay_min_ms: 10 });
  const bound = await t.start();
  open.push(t);
  return { t, port: bound };
}

const until = async (cond: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('tcp transport – raft messages between nodes', () => {
  it('delivers messages in order with the sender id, binary data intact', async () => {
    const got: [string, unknown][] = [];
    const b = await node('b', 0, (from, msgs) => {
      for (const m of msgs) got.push([from, m]);
    });
    const a = await node('a');
    a.t.setPeer('b', { host: '127.0.0.1', port: b.port });
    for (let i = 0; i < 100; i++) a.t.send('b', { group: i % 7, n: i, data: new Uint8Array([i, 255 - i]) });
    await until(() => got.length === 100);
    expect(got.map(([from]) => from)).toEqual(Array(100).fill('a'));
    expect(got.map(([, m]) => (m as { n: number }).n)).toEqual([...Array(100).keys()]);
    expect(Array.from((got[5]![1] as { data: Uint8Array }).data)).toEqual([5, 250]);
  });

  it('batches one turn of messages to a peer into one frame', async () => {
    const frames: number[] = [];
    const b = await node('b', 0, (_from, msgs) => frames.push(msgs.length));
    const a = await node('a');
    a.t.setPeer('b', { host: '127.0.0.1', port: b.port });
    a.t.send('b', { warmup: true });
    await until(() => frames.length === 1);
    for (let i = 0; i < 50; i++) a.t.send('b', { i });
    await until(() => frames.reduce((x, y) => x + y, 0) === 51);
    expect(frames).toEqual([1, 50]);
  });

  it('reconnects after the peer restarts on the same port', async () => {
    const got: unknown[] = [];
    const b1 = await node('b', 0, (_f, msgs) => got.push(...msgs));
    const a = await node('a');
    a.t.setPeer('b', { host: '127.0.0.1', port: b1.port });
    a.t.send('b', 1);
    await until(() => got.length === 1);
    await b1.t.close();
    const b2 = await node('b', b1.port, (_f, msgs) => got.push(...msgs));
    expect(b2.port).toBe(b1.port);
    await until(() => {
      a.t.send('b', 2);
      return got.includes(2);
    });
  });

  it('drops instead of growing without bound while a peer is unreachable', async () => {
    const a = new TcpTransport({
      nodeId: 'a',
      host: '127.0.0.1',
      port: 0,
      onMessages: () => {},
      queue_messages_max: 10,
    });
    await a.start();
    open.push(a);
    a.setPeer('nowhere', { host: '127.0.0.1', port: 1 });
    const accepted = Array.from({ length: 50 }, (_, i) => a.send('nowhere', i)).filter(Boolean).length;
    expect(accepted).toBe(10);
    expect(a.droppedCount()).toBe(40);
    expect(a.send('unknown-peer', 1)).toBe(false);
  });

  it('closes a connection that sends an oversize frame, and keeps serving others', async () => {
    const got: unknown[] = [];
    const b = new TcpTransport({
      nodeId: 'b',
      host: '127.0.0.1',
      port: 0,
      onMessages: (_f, msgs) => got.push(...msgs),
      frame_bytes_max: 1024,
    });
    const port = await b.start();
    open.push(b);
    const rogue = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((resolve) => rogue.once('close', () => resolve()));
    rogue.on('error', () => {});
    const header = Buffer.alloc(4);
    header.writeUInt32BE(10_000_000, 0);
    rogue.write(header);
    await closed;
    const a = await node('a');
    a.t.setPeer('b', { host: '127.0.0.1', port });
    a.t.send('b', 'still works');
    await until(() => got.includes('still works'));
  });
});
