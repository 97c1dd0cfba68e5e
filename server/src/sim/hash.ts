/** FNV-1a over bytes: a cheap fingerprint for comparing entries across replicas. */
export function fnv1a(data: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Fingerprint of an entry's type and payload. */
export function entryHash(type: 'normal' | 'conf_change', data: Uint8Array): number {
  return fnv1a(data, type === 'normal' ? 0x811c9dc5 : 0x050c5d1f);
}
