/** A reply request the server answered with an error status. */
export class ChatRequestError extends Error {
  override readonly name = 'ChatRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const errorBodyCharsMax = 2_000;

/**
 * The text deltas of a streamed HTTP response body, decoded as UTF-8 as they
 * arrive (a character split across chunks is held until it is complete).
 * Rejects with `ChatRequestError` for a non-2xx status, using the body's
 * `message` field when it is JSON. Ends when the body does; breaking out of
 * the loop cancels the body.
 */
export async function* readTextStream(response: Response): AsyncGenerator<string, void, undefined> {
  if (!response.ok) throw await requestError(response);
  if (!response.body) {
    const text = await response.text();
    if (text) yield text;
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      const text = decoder.decode(value, { stream: true });
      if (text) yield text;
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

async function requestError(response: Response): Promise<ChatRequestError> {
  let message = `reply request failed with status ${response.status}`;
  try {
    const body = (await response.text()).slice(0, errorBodyCharsMax);
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON: the status says enough.
  }
  return new ChatRequestError(response.status, message);
}
