/**
 * Waiting without assuming how fast a loaded machine is: `until` polls for what a test waits for
 * instead of sleeping a fixed time. A fixed `sleep` is left for the one thing polling cannot show,
 * that something does not happen within a while.
 */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every `everyMs` until it holds; fails saying `what` did not happen within `timeoutMs`. */
export async function until(
  what: string,
  done: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}
