import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (IEEE) with hardware acceleration from node's zlib (about 3 GB/s),
 * continued from `previous` when data arrives in pieces. The one checksum of
 * the write-ahead log, snapshot files and snapshot transfers.
 */
export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous);
}
