import { streamRoute } from '@fastpaca/contract';
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
  const params = new URLSearchParams();
  if (query.cursor !== undefined) params.set('cursor', String(query.cursor));
  params.set('include_messages', String(query.includeMessages));
  return `${base}${path}?${params.toString()}`;
}
