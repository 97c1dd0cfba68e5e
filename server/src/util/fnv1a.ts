/**
 * 32-bit FNV-1a over bytes. Simple enough to reimplement anywhere, which
 * matters where the value must never change (context → group routing).
 */
export function fnv1a(data: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
