import { describe, expect, it } from 'vitest';
import { ReplicationError } from '../../../src/replication/errors.js';
import { PendingRequests } from '../../../src/replication/host/pending-requests.js';

const settled = async (p: Promise<unknown>) => {
  const marker = Symbol('pending');
  const r = await Promise.race([
    p.then(
      (v) => ({ ok: v }),
      (e: unknown) => ({ err: e }),
    ),
    new Promise((resolve) => setTimeout(() => resolve(marker), 20)),
  ]);
  return r === marker ? 'pending' : r;
};

describe('pending requests – every request settles exactly once', () => {
  it('pending – a proposal whose index is proposed again in a later term settles at once, as not applied', async () => {
    // Regression: the second proposal overwrote the first one's waiter, whose promise never settled.
    const p = new PendingRequests();
    const first = p.addProposal(0, 10, 5, 0, 1_000);
    const second = p.addProposal(0, 10, 7, 1, 1_000);
    const r = (await settled(first)) as { err: ReplicationError };
    expect(r.err).toBeInstanceOf(ReplicationError);
    expect(r.err).toMatchObject({ kind: 'overwritten', outcome: 'not_applied', group: 0 });
    p.applied(0, 10, 7, 'result', 2);
    expect(await settled(second)).toEqual({ ok: 'result' });
  });

  it("pending – an entry of another term at the proposal's index rejects it; the matching one resolves it", async () => {
    const p = new PendingRequests();
    const a = p.addProposal(1, 3, 2, 0, 1_000);
    p.applied(1, 3, 4, 'other', 1);
    expect(await settled(a)).toMatchObject({ err: { kind: 'overwritten' } });
    const b = p.addProposal(1, 4, 4, 0, 1_000);
    p.applied(1, 4, 4, 'mine', 1);
    expect(await settled(b)).toEqual({ ok: 'mine' });
  });

  it('pending – deadlines, snapshots, leaving the node and stopping each settle what they cover', async () => {
    const p = new PendingRequests();
    const late = p.addProposal(0, 1, 1, 0, 10);
    const read = p.addRead(0, 'r1', 10);
    p.expire(11, 10);
    expect(await settled(late)).toMatchObject({ err: { kind: 'timeout', outcome: 'unknown' } });
    expect(await settled(read)).toMatchObject({ err: { kind: 'timeout' } });
    const covered = p.addProposal(0, 5, 1, 0, 1_000);
    const after = p.addProposal(0, 9, 1, 0, 1_000);
    p.supersededThrough(0, 6, 'was replaced by a snapshot');
    expect(await settled(covered)).toMatchObject({ err: { kind: 'superseded', outcome: 'unknown' } });
    expect(await settled(after)).toBe('pending');
    p.failGroup(0, 'left this node');
    expect(await settled(after)).toMatchObject({ err: { kind: 'superseded' } });
    const last = p.addProposal(2, 1, 1, 0, 1_000);
    p.failAll('stopping', 'node is shutting down');
    expect(await settled(last)).toMatchObject({ err: { kind: 'stopping', outcome: 'unknown' } });
    expect(p.size()).toBe(0);
  });

  it('pending – a confirmed read is served once applied reaches its index; an unconfirmed one fails on a leader change', async () => {
    const p = new PendingRequests();
    const confirmed = p.addRead(0, 'a', 1_000);
    const unconfirmed = p.addRead(0, 'b', 1_000);
    p.readConfirmed('a', 7);
    p.serveReads(0, 6);
    expect(await settled(confirmed)).toBe('pending');
    p.failUnconfirmedReads(0, 'leadership moved; retry');
    expect(await settled(unconfirmed)).toMatchObject({ err: { kind: 'not_leader' } });
    p.serveReads(0, 7);
    expect(await settled(confirmed)).toEqual({ ok: undefined });
  });
});
