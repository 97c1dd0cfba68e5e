import { fnv1a } from '../util/fnv1a.js';

/** Number of Raft groups contexts are spread over. */
export const GROUP_COUNT = 256;

/**
 * The group of a context: 32-bit FNV-1a over the id's UTF-8 bytes, mod 256.
 * It must never change between releases or nodes, or contexts would move;
 * FNV-1a is simple enough to reimplement anywhere and spreads short ids well.
 */
export function groupOf(contextId: string, groups: number = GROUP_COUNT): number {
  return fnv1a(Buffer.from(contextId, 'utf8')) % groups;
}

/**
 * The meta group: the cluster's membership and the coordinator's decisions
 * (see membership/). It is numbered after the context groups.
 */
export const META_GROUP = GROUP_COUNT;

/** Every context group, 0..255. */
export const CONTEXT_GROUPS: readonly number[] = Object.freeze(
  Array.from({ length: GROUP_COUNT }, (_, g) => g),
);
