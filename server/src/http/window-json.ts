import type { Window, WindowMessage } from '@fastpaca/contract';

/**
 * Window reads are mostly JSON serialization (~36 KB for a typical window),
 * but window messages never change once stored. Each message's JSON is
 * therefore made once and kept beside the message object (a WeakMap, so it
 * goes when the message leaves the window), and a read joins the pieces.
 */
const serialized = new WeakMap<WindowMessage, string>();

function messageJson(message: WindowMessage): string {
  let json = serialized.get(message);
  if (json === undefined) {
    json = JSON.stringify(message);
    serialized.set(message, json);
  }
  return json;
}

/** The same text as `JSON.stringify(window)`, from cached message pieces. */
export function windowJson(window: Window): string {
  const messages = window.messages.map(messageJson).join(',');
  return (
    `{"version":${window.version},"messages":[${messages}],"used_tokens":${window.used_tokens},` +
    `"needs_compaction":${window.needs_compaction},"segments":${JSON.stringify(window.segments)}}`
  );
}
