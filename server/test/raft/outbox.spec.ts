import { describe, expect, it } from 'vitest';
import { NO_BUGS } from '../../src/raft/bugs.js';
import { Outbox } from '../../src/raft/outbox.js';
import { RaftLog } from '../../src/raft/raft-log.js';
import type { Entry, Message, PersistAck } from '../../src/raft/types.js';

const snapshot = {
  meta: { index: 0, term: 0, conf: { voters: ['a'], learners: [] }, checksum: 0 },
  data: new Uint8Array(),
};
const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array(),
});

function setup(options: { maxHeld?: number } = {}) {
  const log = new RaftLog(snapshot, [entry(1, 1), entry(2, 1)], 0, 0);
  let writePending = false;
  const outbox = new Outbox({
    stable: 2,
    durableTerm: 1,
    maxHeld: options.maxHeld ?? 100,
    bugs: NO_BUGS,
    writePending: () => writePending,
  });
  const ack = (seq: number, logIndex: number, logTerm: number, term = 1): PersistAck => ({
    group: 0,
    seq,
    term,
    vote: null,
    log_index: logIndex,
    log_term: logTerm,
  });
  return {
    log,
    outbox,
    ack,
    setWritePending: (v: boolean) => {
      writePending = v;
    },
  };
}

const grant: Message = { type: 'vote_resp', group: 0, from: 'a', to: 'b', term: 1, reject: false };
const appAck: Message = {
  type: 'app_resp',
  group: 0,
  from: 'a',
  to: 'b',
  term: 1,
  index: 3,
  log_term: 1,
  reject: false,
  hint_index: 0,
  hint_term: 0,
};
const preVote: Message = {
  type: 'pre_vote',
  group: 0,
  from: 'a',
  to: 'b',
  term: 2,
  log_index: 2,
  log_term: 1,
  transfer: false,
};

describe('outbox', () => {
  it('outbox – a vote grant waits for the write about to be issued; a pre-vote does not wait', () => {
    const { outbox, log, ack, setWritePending } = setup();
    setWritePending(true);
    outbox.send(grant);
    outbox.send(preVote);
    expect(outbox.take()).toEqual([preVote]);
    const seq = outbox.issueWrite();
    expect(outbox.take()).toEqual([]);
    outbox.acknowledge(ack(seq, 2, 1), log);
    expect(outbox.take()).toEqual([grant]);
  });

  it('outbox – with nothing to write and nothing in flight, an acknowledgement goes out at once', () => {
    const { outbox } = setup();
    outbox.send(appAck);
    expect(outbox.take()).toEqual([appAck]);
  });

  it('outbox – with no new write, a held message needs only the writes already issued', () => {
    const { outbox, log, ack, setWritePending } = setup();
    setWritePending(false);
    const first = outbox.issueWrite();
    outbox.send(appAck); // waits for `first`, still in flight
    outbox.noWrite();
    expect(outbox.take()).toEqual([]);
    outbox.acknowledge(ack(first, 2, 1), log);
    expect(outbox.take()).toEqual([appAck]);
  });

  it('outbox – an older write cannot vouch past a cut issued after it (the log was replaced from there)', () => {
    const { outbox, log, ack } = setup();
    const older = outbox.issueWrite(); // carried entries up to 2
    log.append([entry(2, 2), entry(3, 2)]); // a new leader's entries replace index 2
    outbox.cut(2);
    expect(outbox.stable).toBe(1);
    const newer = outbox.issueWrite();
    outbox.acknowledge(ack(older, 2, 1), log);
    expect(outbox.stable).toBe(1);
    outbox.acknowledge(ack(newer, 3, 2), log);
    expect(outbox.stable).toBe(3);
  });

  it('outbox – an acknowledgement is for a write issued and not yet acknowledged (a later one covers earlier ones)', () => {
    const { outbox, log, ack } = setup();
    const first = outbox.issueWrite();
    const second = outbox.issueWrite();
    expect(() => outbox.acknowledge(ack(second + 1, 2, 1), log)).toThrow(/out of order/);
    outbox.acknowledge(ack(second, 2, 1), log);
    expect(() => outbox.acknowledge(ack(first, 2, 1), log)).toThrow(/out of order/);
  });

  it('outbox – past maxHeld, a held message is dropped, as the network may drop it', () => {
    const { outbox, log, ack, setWritePending } = setup({ maxHeld: 1 });
    setWritePending(true);
    outbox.send(grant);
    outbox.send(appAck);
    const seq = outbox.issueWrite();
    outbox.acknowledge(ack(seq, 2, 1), log);
    expect(outbox.take()).toEqual([grant]);
  });
});
