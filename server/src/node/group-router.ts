/** Number of Raft groups contexts are spread over (SPEC §6). */
export const GROUP_COUNT = 256;

/**
 * The group of a context: 32-bit FNV-1a over the id's UTF-8 bytes, mod 256.
 * It must never change between releases or nodes, or contexts would move;
 * FNV-1a is simple enough to reimplement anywhere and spreads short ids well.
 */
export function groupOf(contextId: string, groups: number = GROUP_COUNT): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(contextId, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % groups;
}
