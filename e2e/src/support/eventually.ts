type Falsy = undefined | null | false | 0 | '';

/**
 * Polls `check` every 250 ms until it returns something truthy; after `timeoutMs` fails naming
 * `what`, the last error and whatever `context` says about the state the test was waiting in.
 */
export async function eventually<R>(
  what: string,
  check: () => Falsy | R | Promise<Falsy | R>,
  timeoutMs = 60_000,
  context: () => string = () => '',
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
    if (Date.now() > deadline) {
      const extra = context();
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}${extra ? `\n${extra}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
