import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgArchiveStore } from '../../src/archive/archive-store.js';
import { Archiver } from '../../src/archive/archiver.js';
import { type AckArchivedValue, type Applied, ContextGroup } from '../../src/context/index.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { startTestDatabase, type TestDatabase } from '../../src/testing/postgres.js';
import { append, msg, must, pendingById, put } from '../context/fixtures.js';

let db: TestDatabase;
let store: PgArchiveStore;

beforeAll(async () => {
  db = await startTestDatabase();
  store = PgArchiveStore.create(db.url, { migrate: true, onError: () => {} });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await db?.stop();
});

/**
 * The archiver over one group of the real context engine and a real store.
 * Proposals are applied to the group at once: on a single voter that is what
 * the log does once the entry is durable, and consensus is not under test here.
 */
function archiverFor(
  group: ContextGroup,
  options: { batch_size: number; batch_bytes_max?: number; leader?: boolean },
) {
  const metrics = new Metrics({ nodeName: 'test' });
  const archiver = new Archiver({
    store,
    groups: [0],
    isLeader: () => options.leader ?? true,
    contexts: () => group,
    propose: async (_g, command) => group.apply(command) as Applied<AckArchivedValue>,
    flush_interval_ms: 1_000_000,
    batch_size: options.batch_size,
    ...(options.batch_bytes_max !== undefined && { batch_bytes_max: options.batch_bytes_max }),
    tail_keep: 2,
    metrics,
    logger: pino({ level: 'silent' }),
  });
  return { archiver, metrics };
}

const archivedSeqs = async (id: string) =>
  (await db.query<{ seq: string }>('SELECT seq FROM messages WHERE context_id = $1 ORDER BY seq', [id])).map(
    (r) => Number(r.seq),
  );

describe('Archiver', () => {
  it('bounds a batch by rows and by bytes, keeps each context contiguous, and drains a backlog', async () => {
    const group = new ContextGroup();
    for (const id of ['big', 'small']) must(group.apply(put(id, { token_budget: 1_000_000 })));
    const kb4 = 'x'.repeat(4096);
    for (let i = 0; i < 7; i++) must(group.apply(append('big', [msg(1, { text: kb4 })])));
    for (let i = 0; i < 5; i++) must(group.apply(append('small', [msg(1)])));

    // ~10 KB per batch: two 4 KB messages fit, a third does not.
    const { archiver, metrics } = archiverFor(group, { batch_size: 1_000, batch_bytes_max: 10_000 });
    expect(await archiver.flush()).toBe(true);
    expect(await archivedSeqs('big')).toEqual([1, 2]);
    expect(group.getContext('big')!.archived_seq).toBe(2);
    expect(
      (await metrics.registry.getSingleMetric('fastpaca_archive_pending_rows')!.get()).values[0]!.value,
    ).toBe(12);

    let flushes = 1;
    while (await archiver.flush()) flushes++;
    expect(flushes).toBeLessThan(10);
    expect(await archivedSeqs('big')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await archivedSeqs('small')).toEqual([1, 2, 3, 4, 5]);
    expect(group.getContext('big')!.archived_seq).toBe(7);
    expect(group.getContext('small')!.archived_seq).toBe(5);
    expect(pendingById(group)).toEqual([]);
    // tail_keep 2: everything older is served from the archive now.
    expect(group.tail('big', 0, 7)!.archived_range).toEqual({ from_seq: 1, to_seq: 5 });
    expect(await archiver.flush()).toBe(false);
  });

  it('bounds a batch by rows', async () => {
    const group = new ContextGroup();
    must(group.apply(put('rows', { token_budget: 1_000_000 })));
    for (let i = 0; i < 10; i++) must(group.apply(append('rows', [msg(1)])));
    const { archiver } = archiverFor(group, { batch_size: 4 });
    expect(await archiver.flush()).toBe(true);
    expect(await archivedSeqs('rows')).toEqual([1, 2, 3, 4]);
    expect(await archiver.flush()).toBe(true);
    expect(await archiver.flush()).toBe(false);
    expect(await archivedSeqs('rows')).toHaveLength(10);
  });

  it('leaves groups it does not lead alone', async () => {
    const group = new ContextGroup();
    must(group.apply(put('follower', { token_budget: 1_000_000 })));
    must(group.apply(append('follower', [msg(1)])));
    const { archiver } = archiverFor(group, { batch_size: 10, leader: false });
    expect(await archiver.flush()).toBe(false);
    expect(await archivedSeqs('follower')).toEqual([]);
    expect(group.getContext('follower')!.archived_seq).toBe(0);
  });
});
