import { describe, expect, it } from 'vitest';
import { removalProven } from '../../src/membership/removal-evidence.js';

const conf = (voters: string[], learners: string[] = []) => ({ voters, learners });

describe('removal evidence – when a node may destroy its replica', () => {
  it('a replica that applied its own removal may go', () => {
    const own = { conf: conf(['a', 'b', 'c']), conf_index: 30 };
    expect(removalProven('d/1', own, { conf: conf(['a', 'b', 'c']), conf_index: 30, commit: 31 })).toBe(true);
  });

  it('a newer committed configuration without the replica proves its removal', () => {
    const own = { conf: conf(['a', 'b', 'd/1']), conf_index: 20 };
    expect(removalProven('d/1', own, { conf: conf(['a', 'b', 'c']), conf_index: 25, commit: 25 })).toBe(true);
  });

  it("a stale leader's older configuration proves nothing, committed or not", () => {
    // d/1 was added at 27 and promoted at 28; a leader cut off since index 20 never heard of it.
    const own = { conf: conf(['a', 'b', 'd/1']), conf_index: 28 };
    expect(removalProven('d/1', own, { conf: conf(['a', 'b', 'c']), conf_index: 20, commit: 25 })).toBe(
      false,
    );
    expect(removalProven('d/1', own, { conf: conf(['a', 'b', 'c']), conf_index: 28, commit: 28 })).toBe(
      false,
    );
  });

  it('an uncommitted configuration proves nothing, nor one that still names the replica', () => {
    const own = { conf: conf(['a', 'b', 'd/1']), conf_index: 20 };
    expect(removalProven('d/1', own, { conf: conf(['a', 'b', 'c']), conf_index: 30, commit: 29 })).toBe(
      false,
    );
    expect(removalProven('d/1', own, { conf: conf(['a', 'b'], ['d/1']), conf_index: 30, commit: 30 })).toBe(
      false,
    );
  });
});
