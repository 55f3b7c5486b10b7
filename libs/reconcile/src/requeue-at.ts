import type { Result } from './controller.ts';

/** Past the instant, so a plan that waits for `at` finds it passed when the timer fires. */
const REQUEUE_SLACK_MS = 50;

/** Reconcile again at `at` (ms since the epoch, by the same clock as `now`), or at once if that has passed. */
export function requeueAt(at: number, now: number): Result {
  return { requeueAfter: Math.max(0, at - now) + REQUEUE_SLACK_MS };
}
