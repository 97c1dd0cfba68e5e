import { fnv1a } from '../util/fnv1a.js';

export { fnv1a };

/** Fingerprint of an entry's type and payload. */
export function entryHash(type: 'normal' | 'conf_change', data: Uint8Array): number {
  return fnv1a(data, type === 'normal' ? 0x811c9dc5 : 0x050c5d1f);
}
