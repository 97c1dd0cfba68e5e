import { describe, expect, it } from 'vitest';
import { bytes, Harness } from './harness.js';

describe('leadership transfer', () => {
  it('transfer – the target is caught up, told to campaign at once, and wins; proposals wait meanwhile', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const a = h.node('a');
    h.isolate('c');
    for (let i = 0; i < 3; i++) a.propose(bytes(`e${i}`));
    h.stabilize();
    h.heal();
    expect(a.transferLeader('c').ok).toBe(true);
    const refused = a.propose(bytes('during'));
    expect(!refused.ok && refused.error.code).toBe('transferring');
    h.stabilize();
    expect(h.sent('a').some((m) => m.type === 'timeout_now' && m.to === 'c')).toBe(true);
    expect(h.node('c').role).toBe('leader');
    expect(a.role).toBe('follower');
    expect(h.node('c').log.lastIndex()).toBeGreaterThanOrEqual(a.log.lastIndex());
  });

  it('transfer – abandoned after an election timeout when the target does not respond', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const a = h.node('a');
    h.isolate('c');
    a.propose(bytes('x'));
    h.stabilize();
    expect(a.transferLeader('c').ok).toBe(true);
    for (let i = 0; i < 12; i++) {
      a.tick();
      h.node('b').tick();
      h.stabilize();
    }
    expect(a.role).toBe('leader');
    expect(a.status().transferee).toBeNull();
    expect(a.propose(bytes('y')).ok).toBe(true);
  });

  it('transfer – only to a voter, only by the leader', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.elect('a');
    const notVoter = h.node('a').transferLeader('zz');
    expect(!notVoter.ok && notVoter.error.code).toBe('invalid_transfer');
    const r = h.node('b').transferLeader('c');
    expect(!r.ok && r.error.code).toBe('not_leader');
  });
});
