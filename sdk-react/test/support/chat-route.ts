import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { type FastpacaClient, loadModelInput, randomId, saveChatReply } from '@fastpaca/sdk';
import { convertToModelMessages, type LanguageModel, streamText, type UIMessage } from 'ai';
import type { FastpacaChatRequest } from '../../src/ai.js';

/**
 * A chat route as an app writes it (a web `Request` in, a UI message stream
 * out): keep the user's message, run the model on the stored window, keep the
 * reply when it ends or is stopped.
 */
export function chatRoute(client: FastpacaClient, model: () => LanguageModel) {
  return async (request: Request): Promise<Response> => {
    const { id, message, trigger, messageId } = (await request.json()) as FastpacaChatRequest;
    const context = client.contextHandle(id);
    if (message?.role === 'user') await context.append(message);
    const result = streamText({
      model: model(),
      messages: await convertToModelMessages(await loadModelInput<UIMessage>(context)),
      abortSignal: request.signal,
    });
    return result.toUIMessageStreamResponse({
      generateMessageId: randomId,
      sendReasoning: true,
      onFinish: (event) =>
        void saveChatReply(context, event, {
          replaces: trigger === 'regenerate-message' ? messageId : undefined,
        }),
    });
  };
}

/** Serves a web handler over node:http, passing the client's disconnect on as the request's abort signal. */
export async function serveRoute(handler: (request: Request) => Promise<Response>): Promise<{
  url: string;
  server: Server;
}> {
  const server = createServer(async (req, res) => {
    const aborted = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const response = await handler(
      new Request(`http://localhost${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
        signal: aborted.signal,
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) return void res.end();
    Readable.fromWeb(response.body as import('node:stream/web').ReadableStream).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}
