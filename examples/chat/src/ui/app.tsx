import { FastpacaProvider } from '@fastpaca/sdk-react';
import { useEffect, useMemo, useState } from 'react';
import { type BackendInfo, createChatClient, fetchInfo } from './backend-api.js';
import { currentChatId } from './chat-id.js';
import { ChatScreen } from './components/chat-screen.js';

export function App() {
  const [chatId] = useState(currentChatId);
  const client = useMemo(() => createChatClient(chatId), [chatId]);
  const [info, setInfo] = useState<BackendInfo | undefined>();
  useEffect(() => {
    fetchInfo()
      .then(setInfo)
      .catch(() => setInfo(undefined));
  }, []);
  return (
    <FastpacaProvider client={client}>
      <ChatScreen chatId={chatId} info={info} />
    </FastpacaProvider>
  );
}
