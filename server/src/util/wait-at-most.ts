/**
 * Waits for `promise` to settle, but no longer than `ms`: for shutdown steps
 * that must not hold the process hostage to a stuck dependency. Rejections
 * are swallowed; the caller only wants to stop waiting.
 */
export async function waitAtMost(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
