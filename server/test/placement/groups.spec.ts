import { describe, expect, it } from 'vitest';
import { GROUP_COUNT, groupOf } from '../../src/placement/groups.js';

describe('group router – context to group', () => {
  it('is FNV-1a 32 of the UTF-8 id, mod 256 (changing it would move every context)', () => {
    // Reference values of 32-bit FNV-1a, independent of this implementation.
    expect(groupOf('', 2 ** 32)).toBe(0x811c9dc5);
    expect(groupOf('a', 2 ** 32)).toBe(0xe40c292c);
    expect(groupOf('foobar', 2 ** 32)).toBe(0xbf9cf968);
    expect(groupOf('foobar')).toBe(0xbf9cf968 % 256);
  });

  it('spreads typical ids evenly over the groups', () => {
    const counts = new Array<number>(GROUP_COUNT).fill(0);
    const n = 256_000;
    for (let i = 0; i < n; i++) counts[groupOf(`chat:${i}`)]!++;
    const expected = n / GROUP_COUNT;
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.8);
    expect(Math.max(...counts)).toBeLessThan(expected * 1.2);
  });
});
