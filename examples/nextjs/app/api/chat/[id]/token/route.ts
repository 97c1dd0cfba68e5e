import { settings } from '../../../../../lib/settings';
import { chatIdPattern, openChat } from '../../../../../lib/store';

/** A read-only token for one chat, so the browser can follow it live straight from the store. */
export async function POST(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!chatIdPattern.test(id)) {
    return Response.json({ error: { code: 'invalid_request', message: 'bad chat id' } }, { status: 400 });
  }
  const context = await openChat(id);
  const token = await context.createToken({ rights: ['read'], ttlSeconds: settings().tokenTtlSeconds });
  return Response.json(token, { headers: { 'cache-control': 'no-store' } });
}
