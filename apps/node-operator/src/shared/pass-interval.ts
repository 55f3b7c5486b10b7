import type { Reconciler, Request } from '@kok/reconcile';

/** The least time between two passes over one NodePool or RemediationPolicy, unless told otherwise. */
export const DEFAULT_PASS_INTERVAL_MS = 1_000;

const keyOf = (r: Request): string => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

/**
 * Runs `reconcile` for one key at most once per `intervalMs`, counted from the
 * end of its last pass: a request that comes sooner is put off (requeueAfter)
 * until then, and the queue folds every event of the wait into that one pass.
 * A pool of 1,000 machines gets an event for each of them when a fleet is
 * adopted or restarted; one plan a second sees them all. (The wait does not
 * grow with slow passes: a pass's time is mostly writes and waiting for the
 * caches, and a rollout step must not wait for that ninefold.)
 */
export function atMostEvery(
  intervalMs: number,
  reconcile: Reconciler,
  now: () => number = Date.now,
): Reconciler {
  if (intervalMs <= 0) return reconcile;
  const finishedAt = new Map<string, number>();
  return async (request, ctx) => {
    const key = keyOf(request);
    const last = finishedAt.get(key);
    const wait = last === undefined ? 0 : last + intervalMs - now();
    if (wait > 0) return { requeueAfter: wait };
    try {
      return await reconcile(request, ctx);
    } finally {
      const finished = now();
      finishedAt.set(key, finished);
      // Keys whose interval has passed need no memory; keep the map as small as the keys in play.
      if (finishedAt.size > 1_000)
        for (const [k, at] of finishedAt) if (at + intervalMs <= finished) finishedAt.delete(k);
    }
  };
}
