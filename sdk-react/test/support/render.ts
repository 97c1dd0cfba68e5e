import type { FastpacaClient } from '@fastpaca/sdk';
import { createElement, type ReactNode, StrictMode } from 'react';
import { FastpacaProvider, type FastpacaProviderProps } from '../../src/index.js';

/** Fast reconnects, so tests that stop the server do not wait out the production backoff. */
export const testStreamOptions = { reconnect: { baseDelayMs: 50, maxDelayMs: 500 } };

/** A `renderHook` wrapper that provides `client`, optionally inside StrictMode. */
export function providerWrapper(
  client: FastpacaClient,
  options: { strict?: boolean } & Omit<FastpacaProviderProps, 'client' | 'children'> = {},
) {
  const { strict, ...props } = options;
  return ({ children }: { children: ReactNode }) => {
    const provider = createElement(
      FastpacaProvider,
      { client, streamOptions: testStreamOptions, ...props },
      children,
    );
    return strict ? createElement(StrictMode, null, provider) : provider;
  };
}

/** The text of a message's first part. */
export function textOf(message: { parts: readonly { type: string }[] }): string {
  const part = message.parts[0] as { text?: unknown } | undefined;
  return typeof part?.text === 'string' ? part.text : '';
}
