import type { Clock, TimerHandle } from '@kok/reconcile';

/** Calls `fn` every `ms` on `clock` until the returned function is called. */
export function repeatEvery(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const arm = (): void => {
    handle = clock.setTimer(() => {
      if (stopped) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return () => {
    stopped = true;
    if (handle) clock.cancelTimer(handle);
  };
}
