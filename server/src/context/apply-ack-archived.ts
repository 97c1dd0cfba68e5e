import { type Contexts, invalid, notFound } from './apply-config.js';
import type { AckArchivedCommand } from './commands.js';
import { type AckArchivedValue, type Applied, ok } from './results.js';
import { isIntIn } from './validate.js';

/**
 * Records the archive's contiguous high-water mark and trims the retained
 * tail: it keeps at least `tail_keep` messages and never drops one newer than
 * `archived_seq`. No version bump and no event: readers see the same history,
 * only served from somewhere else. The window keeps its own references, so it
 * is unaffected.
 */
export function applyAckArchived(contexts: Contexts, cmd: AckArchivedCommand): Applied<AckArchivedValue> {
  if (!isIntIn(cmd.upto_seq, 0, Number.MAX_SAFE_INTEGER))
    return invalid('upto_seq must be a non-negative integer');
  if (!isIntIn(cmd.tail_keep, 0, Number.MAX_SAFE_INTEGER))
    return invalid('tail_keep must be a non-negative integer');
  const state = contexts.get(cmd.id);
  if (state === undefined) return notFound(cmd.id);
  state.archived_seq = Math.max(state.archived_seq, Math.min(cmd.upto_seq, state.log.last_seq));
  const trimmed = state.log.trim(cmd.tail_keep, state.archived_seq);
  return { result: ok({ archived_seq: state.archived_seq, trimmed }), events: [] };
}
