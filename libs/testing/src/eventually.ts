type Falsy = undefined | null | false | 0 | '';

/**
 * Polls `check` until it returns something truthy and returns that; a throw
 * counts as "not yet". After `timeoutMs` it fails naming `what` and the last
 * error, so a timed-out test says what it was waiting for.
 */
export async function eventually<R>(
  what: string,
  check: () => Falsy | R | Promise<Falsy | R>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((resolveSleep) => setTimeout(resolveSleep, intervalMs));
  }
}
