import type { ViewStatus } from '@fastpaca/sdk-react';
import { newChatId } from '../chat-id.js';

const statusLabels: Record<ViewStatus, string> = {
  idle: 'idle',
  loading: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  error: 'offline',
  tombstoned: 'deleted',
};

export function Header({ status, model }: { status: ViewStatus; model: string | undefined }) {
  return (
    <header className="header">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          F
        </span>
        <div>
          <h1>Fastpaca Chat</h1>
          <p className="tagline">Durable, token-budgeted context</p>
        </div>
      </div>
      <div className="header-side">
        {model ? <span className="pill pill-model">{model}</span> : null}
        <span
          className={`pill pill-status status-${status}`}
          data-testid="connection-status"
          data-status={status}
        >
          <span className="dot" aria-hidden="true" />
          {statusLabels[status]}
        </span>
        <a className="button button-ghost" href={`?chat=${newChatId()}`}>
          New chat
        </a>
      </div>
    </header>
  );
}
