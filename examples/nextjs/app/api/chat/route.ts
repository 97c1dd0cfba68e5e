import { loadChat, loadModelInput, randomId, saveChatReply } from '@fastpaca/sdk';
import { consumeStream, convertToModelMessages, stepCountIs, streamText, type UIMessage } from 'ai';
import { BadRequest, parseChatRequest } from '../../../lib/chat-request';
import { chatModel, tools } from '../../../lib/model';
import { openChat } from '../../../lib/store';

/**
 * One turn: keep the user's message, run the model on the chat's stored
 * window (not on what the browser says the history is), stream the reply
 * with its reasoning and tool calls, and keep it when it ends. Stop in the
 * browser aborts the request; the reply is then kept as far as it got.
 */
export async function POST(request: Request): Promise<Response> {
  let turn: ReturnType<typeof parseChatRequest>;
  try {
    turn = parseChatRequest(await request.json());
  } catch (error) {
    const message = error instanceof BadRequest ? error.message : 'the body is not JSON';
    return Response.json({ error: { code: 'invalid_request', message } }, { status: 400 });
  }
  const context = await openChat(turn.id);
  if (turn.replaces !== undefined) {
    // Only the newest reply can be regenerated: the browser names it, the store decides.
    const newest = (await loadChat<UIMessage>(context, { limit: 10 })).findLast(
      (m) => m.role === 'assistant',
    );
    if (newest?.id !== turn.replaces) {
      const message = 'messageId: only the newest reply can be regenerated';
      return Response.json({ error: { code: 'invalid_request', message } }, { status: 400 });
    }
  }
  await context.append(turn.message);
  const result = streamText({
    model: chatModel(),
    messages: await convertToModelMessages(await loadModelInput<UIMessage>(context)),
    tools,
    stopWhen: stepCountIs(4),
    abortSignal: request.signal,
  });
  return result.toUIMessageStreamResponse({
    generateMessageId: randomId,
    sendReasoning: true,
    // Read the stream to its end even when the browser goes away, so onFinish always runs.
    consumeSseStream: consumeStream,
    onFinish: async (event) => {
      await saveChatReply(context, event, { replaces: turn.replaces });
    },
  });
}
