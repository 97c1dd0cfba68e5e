import { DefaultChatTransport, type HttpChatTransportInitOptions, type UIMessage } from 'ai';

/** The body `FastpacaChatTransport` posts: the chat id and only the newest message (the server has the rest). */
export interface FastpacaChatRequest<UI extends UIMessage = UIMessage> {
  id: string;
  trigger: 'submit-message' | 'regenerate-message';
  /** With `regenerate-message`: the reply being replaced. */
  messageId: string | undefined;
  /** The user's new message, or the assistant message a client-side tool result continues. */
  message: UI | undefined;
}

/**
 * useChat's transport for a chat kept in Fastpaca: it sends your route the
 * new message only, not the whole conversation, since the route reads the
 * history (and the token-budgeted window) from the store. The route answers
 * with a UI message stream (`toUIMessageStreamResponse`), as for
 * `DefaultChatTransport`. Extra `body` fields from the options or from
 * `sendMessage(…, { body })` are sent along.
 */
export class FastpacaChatTransport<UI extends UIMessage = UIMessage> extends DefaultChatTransport<UI> {
  constructor(options: HttpChatTransportInitOptions<UI> = {}) {
    super({
      ...options,
      prepareSendMessagesRequest:
        options.prepareSendMessagesRequest ??
        (({ id, messages, trigger, messageId, body }) => {
          const request: FastpacaChatRequest<UI> = { id, trigger, messageId, message: messages.at(-1) };
          return { body: { ...body, ...request } };
        }),
    });
  }
}
