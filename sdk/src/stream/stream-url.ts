import { type StreamQuery, streamRoute } from '@fastpaca/contract';
import { insertParamsIntoPath } from '@ts-rest/core';

/** `ws(s)://host/v1/contexts/:id/stream?cursor=…&include_messages=…` from the REST base URL. */
export function streamUrl(
  baseUrl: string,
  contextId: string,
  query: { cursor: number | undefined; includeMessages: boolean },
): string {
  const base = baseUrl.replace(/\/+$/, '').replace(/^http(s?):\/\//i, 'ws$1://');
  const path = insertParamsIntoPath({
    path: streamRoute.path,
    params: { id: encodeURIComponent(contextId) },
  });
  // Named by the contract's query schema: a renamed parameter breaks this build.
  const wire: StreamQuery = {};
  if (query.cursor !== undefined) wire.cursor = String(query.cursor);
  wire.include_messages = String(query.includeMessages);
  const params = new URLSearchParams(wire as Record<string, string>);
  return `${base}${path}?${params.toString()}`;
}
