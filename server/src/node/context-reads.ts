import type { Context, Window } from '@fastpaca/contract';
import type { ContextGroup, LogPage, MessagesSlice } from '../context/index.js';

/**
 * A read of one context, as plain data, so it can run on whichever node holds
 * a replica of the context's group: here, or on another node over the link.
 */
export type ContextRead =
  | { readonly op: 'get' }
  | { readonly op: 'window'; readonly budget_tokens?: number }
  | { readonly op: 'tail'; readonly offset: number; readonly limit: number }
  | { readonly op: 'messages'; readonly after_seq: number; readonly limit: number };

export interface ContextReadValues {
  get: Context;
  window: Window;
  tail: LogPage;
  messages: MessagesSlice;
}

/** Runs a read on a group's state; undefined when the context does not exist. */
export function runRead(contexts: ContextGroup, id: string, read: ContextRead): unknown {
  switch (read.op) {
    case 'get':
      return contexts.getContext(id);
    case 'window':
      return contexts.window(
        id,
        read.budget_tokens === undefined ? {} : { budget_tokens: read.budget_tokens },
      );
    case 'tail':
      return contexts.tail(id, read.offset, read.limit);
    case 'messages':
      return contexts.messagesAfter(id, read.after_seq, read.limit);
  }
}
