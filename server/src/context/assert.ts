/** Programmer errors crash: a broken invariant must never be applied to replicated state. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`context engine invariant violated: ${message}`);
}
