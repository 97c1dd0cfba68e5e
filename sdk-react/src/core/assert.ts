/** Programmer errors (a misuse no retry can fix) crash loudly instead of becoming state. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`@fastpaca/sdk-react: ${message}`);
}

export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** True for the rejection of an aborted fetch, read or wait, in browsers and in Node. */
export function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { name?: unknown }).name === 'AbortError' ||
      (error as { code?: unknown }).code === 'ABORT_ERR')
  );
}
