import { loadChat } from '@fastpaca/sdk';
import type { UIMessage } from 'ai';
import { notFound } from 'next/navigation';
import { Chat } from '../../../components/chat';
import { settings } from '../../../lib/settings';
import { chatIdPattern, openChat } from '../../../lib/store';

export const dynamic = 'force-dynamic';

/** Renders the stored history on the server, so the first paint has the conversation. */
export default async function ChatPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!chatIdPattern.test(id)) notFound();
  const initialMessages = await loadChat<UIMessage>(await openChat(id), { limit: 50 });
  return <Chat id={id} initialMessages={initialMessages} storeUrl={settings().publicStoreUrl} />;
}
