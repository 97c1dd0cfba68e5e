import { Packr } from 'msgpackr';

/**
 * The msgpack codec for everything that crosses a process or a restart: Raft
 * log entries, WAL frames and node-to-node messages. Plain maps (no shared
 * record structures), so any reader decodes a value without prior state and a
 * newer node reads what an older one wrote.
 */
export function plainPackr(): Packr {
  return new Packr({ useRecords: false, moreTypes: false });
}
