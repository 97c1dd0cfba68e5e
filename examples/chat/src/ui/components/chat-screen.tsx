import { useContextWindow, useFastpacaChat } from '@fastpaca/sdk-react';
import { useCallback, useState } from 'react';
import { type BackendInfo, type CompactResult, compactChat, sendTurn } from '../backend-api.js';
import { Composer } from './composer.js';
import { ContextBar } from './context-bar.js';
import { Header } from './header.js';
import { MessageList } from './message-list.js';

interface ChatScreenProps {
  chatId: string;
  info: BackendInfo | undefined;
}

type Compaction =
  | { kind: 'idle' }
  | { kind: 'running' }
  | { kind: 'done'; result: CompactResult }
  | { kind: 'failed'; message: string };

export function ChatScreen({ chatId, info }: ChatScreenProps) {
  const chat = useFastpacaChat(chatId, { send: sendTurn, pageSize: 30 });
  const contextWindow = useContextWindow(chatId);
  const [compaction, setCompaction] = useState<Compaction>({ kind: 'idle' });

  const compact = useCallback(() => {
    setCompaction({ kind: 'running' });
    compactChat(chatId)
      .then((result) => setCompaction({ kind: 'done', result }))
      .catch((error: Error) => setCompaction({ kind: 'failed', message: error.message }));
  }, [chatId]);

  const busy = chat.status === 'submitted' || chat.status === 'streaming';
  const error = chat.error;

  return (
    <div className="app">
      <Header status={chat.logStatus} model={info?.model} />
      <ContextBar
        chatId={chatId}
        window={contextWindow}
        compacting={compaction.kind === 'running'}
        onCompact={compact}
        note={
          compaction.kind === 'done'
            ? compaction.result.compacted
              ? `Compacted ${compaction.result.summarized} messages into a summary: ${compaction.result.used_tokens_before.toLocaleString()} → ${compaction.result.used_tokens_after.toLocaleString()} tokens. The history below is untouched.`
              : 'Nothing to compact yet: the window is only a few messages long.'
            : compaction.kind === 'failed'
              ? `Compaction failed: ${compaction.message}`
              : undefined
        }
        onDismissNote={() => setCompaction({ kind: 'idle' })}
      />
      <MessageList
        messages={chat.messages}
        status={chat.logStatus}
        hasOlder={chat.hasOlder}
        loadingOlder={chat.loadingOlder}
        loadOlder={chat.loadOlder}
        onSuggestion={(text) => void chat.sendMessage({ text })}
        canSend={!busy}
      />
      {error ? (
        <div className="banner banner-error" role="alert">
          <span>{error.message}</span>
          {chat.logStatus === 'error' ? (
            <button type="button" className="link" onClick={chat.retry}>
              Retry
            </button>
          ) : (
            <button type="button" className="link" onClick={chat.clearError}>
              Dismiss
            </button>
          )}
        </div>
      ) : null}
      <Composer
        busy={busy}
        disabled={chat.logStatus === 'error'}
        onSend={(text) => chat.sendMessage({ text })}
        onStop={chat.stop}
      />
    </div>
  );
}
