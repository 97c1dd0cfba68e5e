const idPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** A fresh chat id: short, URL-safe, random. */
export function newChatId(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `chat-${Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * The chat this page shows: `?chat=<id>` in the URL, so a reload or a shared
 * link opens the same conversation. Without one, a new id is put there.
 */
export function currentChatId(): string {
  const url = new URL(window.location.href);
  const id = url.searchParams.get('chat');
  if (id && idPattern.test(id)) return id;
  const fresh = newChatId();
  url.searchParams.set('chat', fresh);
  window.history.replaceState(null, '', url);
  return fresh;
}
