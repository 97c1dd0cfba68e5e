import { type Contract, contract } from '@fastpaca/contract';
import {
  type AppRoute,
  type ClientInferRequest,
  type ClientInferResponseBody,
  convertQueryParamsToUrlString,
  insertParamsIntoPath,
} from '@ts-rest/core';
import { errorFromResponse } from '../errors/error-from-response.js';
import { FastpacaError } from '../errors/fastpaca-error.js';
import { NetworkError } from '../errors/network-error.js';
import { abortReason, linkedController } from '../util/abort.js';
import type { CredentialProvider } from './credentials.js';
import type { RetryOptions } from './retry-policy.js';
import { withRetry } from './with-retry.js';

export type RouteName = keyof Contract;

type SuccessStatus<R extends AppRoute> = Extract<keyof R['responses'], 200 | 201 | 202 | 204>;

/** The success body of a route, inferred from the contract. */
export type RouteResult<K extends RouteName> = ClientInferResponseBody<
  Contract[K],
  SuccessStatus<Contract[K]>
>;
/** The request body of a route, inferred from the contract (wire names). */
export type RouteBody<K extends RouteName> =
  ClientInferRequest<Contract[K]> extends { body: infer B } ? B : never;
/** The query of a route, inferred from the contract (wire names). */
export type RouteQuery<K extends RouteName> =
  ClientInferRequest<Contract[K]> extends { query: infer Q } ? Q : never;

export interface CallInput<K extends RouteName> {
  /** The context id of `/v1/contexts/:id/...` routes. */
  id?: string;
  /** Other path parameters, such as a node's `name`. */
  params?: Record<string, string>;
  body?: RouteBody<K>;
  query?: RouteQuery<K>;
  headers?: Record<string, string>;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's retry policy for this call. */
  retry?: RetryOptions | undefined;
  /** False when applying the request twice would differ from applying it once (see `withRetry`). */
  idempotent?: boolean;
  /** How long after the first attempt a retry may still be sent (the last attempt included). */
  retryWindowMs?: number;
}

export interface TransportOptions {
  baseUrl: string;
  /** The bearer credential for each request, if any. */
  credential: CredentialProvider;
  fetch: typeof fetch;
  headers: Record<string, string>;
  retry: RetryOptions;
  /** Per attempt, in milliseconds. */
  timeoutMs: number;
  random: () => number;
}

/**
 * Sends the contract's REST routes: the path, method and types all come from
 * `@fastpaca/contract`, so a contract change breaks this build rather than a
 * caller. Each call is retried under the retry policy; non-2xx answers become
 * typed errors.
 */
export class Transport {
  readonly baseUrl: string;

  constructor(readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async call<K extends RouteName>(
    name: K,
    input: CallInput<K>,
    options: CallOptions = {},
  ): Promise<{ status: number; body: RouteResult<K> }> {
    const route: AppRoute = contract[name];
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries({
      ...input.params,
      ...(input.id !== undefined && { id: input.id }),
    }))
      params[key] = encodeURIComponent(value);
    const path = insertParamsIntoPath({ path: route.path, params });
    const url = this.baseUrl + path + convertQueryParamsToUrlString(input.query ?? {});
    const hasBody = input.body !== undefined;
    const payload = hasBody ? JSON.stringify(input.body) : undefined;
    return withRetry(
      async () => {
        const send = async (credential: string | undefined) =>
          this.attempt(
            url,
            route.method,
            {
              accept: 'application/json',
              ...this.options.headers,
              ...(hasBody ? { 'content-type': 'application/json' } : {}),
              ...(credential ? { authorization: `Bearer ${credential}` } : {}),
              ...input.headers,
            },
            payload,
            options.signal,
          );
        const credential = await this.options.credential();
        let { status, text, response } = await send(credential);
        if (status === 401 && credential !== undefined) {
          // An expired token: when the credential function now gives another one, that one is tried once.
          const fresh = await this.options.credential(credential);
          if (fresh !== credential) ({ status, text, response } = await send(fresh));
        }
        if (status < 200 || status >= 300) {
          throw errorFromResponse({
            status,
            body: text,
            retryAfter: response.headers.get('retry-after'),
            requestId: response.headers.get('x-request-id'),
          });
        }
        if (status === 204 || text === '') return { status, body: undefined as unknown as RouteResult<K> };
        try {
          return { status, body: JSON.parse(text) as RouteResult<K> };
        } catch (cause) {
          throw new FastpacaError({
            status,
            code: 'invalid_response',
            message: `${route.method} ${path}: the server answered ${status} with a body that is not JSON`,
            requestId: response.headers.get('x-request-id') ?? undefined,
            cause,
          });
        }
      },
      options.retry ?? this.options.retry,
      {
        signal: options.signal,
        random: this.options.random,
        idempotent: options.idempotent ?? true,
        // The last attempt may run for a whole timeout after it starts.
        ...(options.retryWindowMs !== undefined && {
          retryUntil: Date.now() + options.retryWindowMs - this.options.timeoutMs,
        }),
      },
    );
  }

  /** One HTTP exchange under the per-attempt timeout; failures without an answer are NetworkErrors. */
  private async attempt(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; text: string; response: Response }> {
    const { controller, dispose } = linkedController(signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    try {
      const response = await this.options.fetch(url, { method, headers, body, signal: controller.signal });
      const text = await response.text();
      return { status: response.status, text, response };
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (timedOut) throw new NetworkError(`${method} ${url}: no answer within ${this.options.timeoutMs} ms`);
      throw new NetworkError(`${method} ${url}: ${describeFailure(error)}`, error);
    } finally {
      clearTimeout(timer);
      dispose();
    }
  }
}

/** fetch reports "fetch failed" and hides the useful part (ECONNREFUSED, ...) in `cause`. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail ? `${error.message} (${detail})` : error.message;
}
