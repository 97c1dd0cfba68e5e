import { streamCloseCodes } from '@fastpaca/contract';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient } from '../http/client.js';
import {
  eventually,
  metricValue,
  openStream,
  refusedUpgrade,
  type StreamClient,
  UpgradeRefused,
} from './stream-client.js';

const CAP = 5;
let server: ServerProcess;
let api: ReturnType<typeof jsonClient>;
let open: StreamClient[] = [];

const connections = () => metricValue(server.url, 'fastpaca_stream_connections');

beforeAll(async () => {
  server = await startServerProcess({
    env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1', FASTPACA_STREAM_MAX_CONNECTIONS: String(CAP) },
  });
  api = jsonClient(server.url);
  const created = await api.put('/v1/contexts/cap', { token_budget: 10_000 });
  expect(created.body).toMatchObject({ id: 'cap' });
});
afterEach(async () => {
  await Promise.all(open.map((c) => c.close()));
  open = [];
  await eventually(connections, (n) => n === 0);
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe('stream capacity – per-node connection cap', () => {
  it('refuses the upgrade over the cap with 503 and a JSON error, and a slot frees on disconnect', async () => {
    for (let i = 0; i < CAP; i++) open.push(await openStream(server.url, 'cap'));
    expect(await connections()).toBe(CAP);

    const refused = await refusedUpgrade(server.url, 'cap');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'unavailable' });
    expect((refused.body as { message: string }).message).toContain(String(CAP));

    await open.shift()!.close();
    await eventually(connections, (n) => n === CAP - 1);
    open.push(await openStream(server.url, 'cap'));
    expect(await connections()).toBe(CAP);
    await refusedUpgrade(server.url, 'cap');
  });

  it('an abruptly dropped client frees its slot too', async () => {
    for (let i = 0; i < CAP; i++) open.push(await openStream(server.url, 'cap'));
    await open.shift()!.terminate();
    await eventually(connections, (n) => n === CAP - 1);
    open.push(await openStream(server.url, 'cap'));
  });

  it('connections refused after the upgrade (unknown context) do not hold slots', async () => {
    for (let i = 0; i < CAP * 3; i++) {
      const client = await openStream(server.url, 'no-such-context');
      expect((await client.closedWithin()).code).toBe(streamCloseCodes.not_found);
    }
    for (let i = 0; i < CAP; i++) open.push(await openStream(server.url, 'cap'));
    expect(await connections()).toBe(CAP);
  });

  it('a burst of simultaneous upgrades never admits more than the cap', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: CAP * 4 }, () => openStream(server.url, 'cap')),
    );
    const admitted = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    open.push(...admitted);
    for (const a of attempts) {
      if (a.status === 'rejected') {
        expect(a.reason).toBeInstanceOf(UpgradeRefused);
        expect((a.reason as UpgradeRefused).status).toBe(503);
      }
    }
    // Give an over-admitted socket time to be counted or closed.
    await new Promise((r) => setTimeout(r, 200));
    const stillOpen = admitted.filter((c) => c.closeState === undefined);
    expect(stillOpen.length).toBeLessThanOrEqual(CAP);
    expect(await connections()).toBeLessThanOrEqual(CAP);
    expect(stillOpen.length).toBe(await connections());
  });
});
