type Falsy = undefined | null | false | 0 | '';

export interface EventuallyOptions {
  /** Between two checks. Default 100 ms. */
  intervalMs?: number;
  /** What the failure message adds about the state the test was waiting in (read once, at the timeout). */
  context?: () => string;
}

/**
 * Polls `check` until it returns something truthy and returns that; a throw
 * counts as "not yet". After `timeoutMs` it fails naming `what` (a function is
 * asked then, so it can tell the state it timed out in), the last error and the
 * context, so a timed-out test says what it was waiting for. The one polling
 * helper of the tests: projects bind their own default deadline, never another
 * argument order.
 */
export async function eventually<R>(
  what: string | (() => string),
  check: () => Falsy | R | Promise<Falsy | R>,
  timeoutMs = 30_000,
  options: number | EventuallyOptions = {},
): Promise<R> {
  const { intervalMs = 100, context } = typeof options === 'number' ? { intervalMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const extra = context?.() ?? '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${last ? `: ${String(last)}` : ''}${extra ? `\n${extra}` : ''}`,
      );
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, intervalMs));
  }
}
