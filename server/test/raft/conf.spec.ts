import { describe, expect, it } from 'vitest';
import {
  applyConfChange,
  ConfHistory,
  decodeConfChange,
  encodeConfChange,
  quorumSize,
} from '../../src/raft/conf.js';

describe('conf', () => {
  it('encodeConfChange – round trips', () => {
    for (const type of ['add_learner', 'promote', 'remove'] as const) {
      expect(decodeConfChange(encodeConfChange({ type, node: 'nødé-1' }))).toEqual({ type, node: 'nødé-1' });
    }
    expect(() => decodeConfChange(new Uint8Array([9, 65]))).toThrow();
  });

  it('applyConfChange – learner, promote, remove, with reasons for invalid changes', () => {
    const c0 = { voters: ['a', 'b'], learners: [] };
    const c1 = applyConfChange(c0, { type: 'add_learner', node: 'c' });
    expect(c1).toEqual({ voters: ['a', 'b'], learners: ['c'] });
    const c2 = applyConfChange(c1 as typeof c0, { type: 'promote', node: 'c' });
    expect(c2).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
    expect(applyConfChange(c0, { type: 'promote', node: 'a' })).toMatch(/not a learner/);
    expect(applyConfChange(c0, { type: 'add_learner', node: 'a' })).toMatch(/already a member/);
    expect(applyConfChange({ voters: ['a'], learners: [] }, { type: 'remove', node: 'a' })).toMatch(
      /last voter/,
    );
  });

  it('quorumSize – majority', () => {
    expect([1, 2, 3, 4, 5].map(quorumSize)).toEqual([1, 2, 2, 3, 3]);
  });

  it('ConfHistory – tracks configurations along the log and forgets truncated ones', () => {
    const h = new ConfHistory({ voters: ['a'], learners: [] }, 5);
    h.push(7, { voters: ['a'], learners: ['b'] });
    h.push(9, { voters: ['a', 'b'], learners: [] });
    expect(h.at(6).learners).toEqual([]);
    expect(h.at(8).learners).toEqual(['b']);
    expect(h.current().voters).toEqual(['a', 'b']);
    h.truncateFrom(9);
    expect(h.currentIndex()).toBe(7);
    h.compactTo(8);
    expect(h.at(8).learners).toEqual(['b']);
    expect(() => h.at(5)).toThrow();
  });
});
