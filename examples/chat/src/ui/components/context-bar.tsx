import type { WindowSnapshot } from '@fastpaca/sdk-react';
import { TokenMeter } from './token-meter.js';

interface ContextBarProps {
  chatId: string;
  window: WindowSnapshot;
  compacting: boolean;
  onCompact: () => void;
  note: string | undefined;
  onDismissNote: () => void;
}

export function ContextBar({ chatId, window, compacting, onCompact, note, onDismissNote }: ContextBarProps) {
  const needs = window.needs_compaction === true;
  return (
    <section className="context-bar" aria-label="LLM window">
      <div className="context-row">
        <div className="context-id">
          <span className="label">Context</span>
          <code>{chatId}</code>
        </div>
        <TokenMeter
          used={window.used_tokens}
          budget={window.token_budget}
          trigger={window.trigger_ratio}
          needsCompaction={needs}
        />
        <div className="context-actions">
          {needs ? (
            <span className="badge badge-warn" data-testid="needs-compaction">
              needs compaction
            </span>
          ) : null}
          <button
            type="button"
            className={needs ? 'button button-warn' : 'button button-secondary'}
            data-testid="compact"
            onClick={onCompact}
            disabled={compacting || window.used_tokens === undefined || window.used_tokens === 0}
          >
            {compacting ? 'Compacting…' : 'Compact now'}
          </button>
        </div>
      </div>
      {note ? (
        <div className="note" data-testid="compaction-note">
          <span>{note}</span>
          <button type="button" className="link" onClick={onDismissNote}>
            Dismiss
          </button>
        </div>
      ) : null}
    </section>
  );
}
