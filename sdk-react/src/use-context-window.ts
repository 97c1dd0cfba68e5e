import type { WindowSnapshot } from './core/context-store.js';
import { idleWindowSnapshot, loadingWindowSnapshot } from './core/snapshots.js';
import { useStoreSnapshot } from './use-store-snapshot.js';

/**
 * The LLM window's live numbers: `used_tokens`, `needs_compaction` and the
 * `version` they belong to, plus the context's `token_budget` and
 * `trigger_ratio`. Shares the context's one stream with the other hooks and
 * re-renders only when these numbers (or the status) change.
 */
export function useContextWindow(id: string | null | undefined): WindowSnapshot {
  return useStoreSnapshot(
    id,
    undefined,
    (store) => store.getWindowSnapshot(),
    loadingWindowSnapshot,
    idleWindowSnapshot,
  );
}
