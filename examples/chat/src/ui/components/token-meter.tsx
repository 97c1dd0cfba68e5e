interface TokenMeterProps {
  used: number | undefined;
  budget: number | undefined;
  trigger: number | undefined;
  needsCompaction: boolean;
}

/** `used_tokens` against the budget, with a tick where compaction is due. */
export function TokenMeter({ used, budget, trigger, needsCompaction }: TokenMeterProps) {
  const known = used !== undefined && budget !== undefined;
  const share = known ? Math.min(1, used / budget) : 0;
  return (
    <div
      className={`meter${needsCompaction ? ' meter-warn' : ''}`}
      data-testid="token-meter"
      data-used-tokens={used ?? ''}
      data-needs-compaction={String(needsCompaction)}
    >
      <div className="meter-labels">
        <span className="label">LLM window</span>
        <span className="meter-numbers">
          {known ? (
            <>
              <strong data-testid="used-tokens">{used.toLocaleString('en-US')}</strong> /{' '}
              {budget.toLocaleString('en-US')} tokens
            </>
          ) : (
            '…'
          )}
        </span>
      </div>
      <meter
        className="sr-only"
        aria-label="Tokens in the LLM window"
        min={0}
        max={budget ?? 0}
        value={used ?? 0}
      />
      <div className="meter-track" aria-hidden="true">
        <div className="meter-fill" style={{ width: `${share * 100}%` }} />
        {trigger !== undefined ? (
          <div
            className="meter-trigger"
            style={{ left: `${trigger * 100}%` }}
            title={`compaction trigger: ${Math.round(trigger * 100)}%`}
          />
        ) : null}
      </div>
    </div>
  );
}
