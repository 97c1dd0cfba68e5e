/**
 * Programmer errors (a misuse of the API that no retry can fix) crash loudly
 * instead of becoming typed operating errors.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`@fastpaca/sdk: ${message}`);
}
