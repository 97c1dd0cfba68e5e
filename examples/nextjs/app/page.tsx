import { randomId } from '@fastpaca/sdk';
import { redirect } from 'next/navigation';

export const dynamic = 'force-dynamic';

/** A new chat for every visit to `/`; its URL is its id, so a reload or a second tab opens the same chat. */
export default function Home(): never {
  redirect(`/chat/${randomId()}`);
}
