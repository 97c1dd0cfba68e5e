import { type ServerProcess, type StartServerOptions, startServerProcess } from '@fastpaca/server/testing';

export {
  stopServerProcess as stopServer,
  uniqueContextId as uniqueId,
} from '@fastpaca/server/testing';
export type { ServerProcess };

/** A real server process with a deterministic token estimator (one token per character). */
export function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  return startServerProcess({
    ...options,
    env: { FASTPACA_TOKEN_ESTIMATOR: 'chars:1', ...options.env },
  });
}

export const text = (value: string, role = 'user') => ({ role, parts: [{ type: 'text', text: value }] });

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
