/** How a Go server reports that its listen address is in use ("bind: address already in use"). */
const PORT_TAKEN = 'address already in use';

/**
 * Starts something on a port picked a moment earlier, and starts it again
 * (`start(true)`: pick another port) when that port was taken meanwhile; a
 * picked port is only free until someone else binds it. Other failures, and the
 * last of `attempts`, are thrown as they are.
 */
export async function retryWhenPortTaken<T>(
  start: (freshPort: boolean) => Promise<T>,
  options: { attempts?: number; onRetry?: (error: unknown) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(attempt > 1);
    } catch (error) {
      if (attempt >= attempts || !String(error).includes(PORT_TAKEN)) throw error;
      options.onRetry?.(error);
    }
  }
}
