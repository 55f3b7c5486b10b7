import type { Reconciler, Request } from '@kok/reconcile';

const keyOf = (r: Request): string => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

export interface PassIntervalOptions {
  /** Least time between the end of one pass of a key and the start of the next. */
  intervalMs: number;
  /** The wait after a pass is at least this many times as long as the pass took. Default 9 (a tenth of the time). */
  shareFactor?: number;
  /** …but never longer than this. Default 5 s. */
  maxIntervalMs?: number;
  /** Default Date.now. */
  now?: () => number;
}

/**
 * Runs `reconcile` for one key at most once per interval, counted from the
 * end of its last pass: a request that comes sooner is put off (requeueAfter)
 * until then, and the queue folds every event of the wait into that one pass.
 * A pool of 1,000 machines gets an event for each of them when a fleet is
 * adopted or restarted; one plan a second sees them all. Where passes are slow
 * (a big pool, a small CPU share) the wait grows with them, up to
 * `maxIntervalMs`, so passes of one key take about a tenth of the time at most.
 */
export function atMostEvery(options: PassIntervalOptions, reconcile: Reconciler): Reconciler {
  const { intervalMs, shareFactor = 9, maxIntervalMs = 5_000, now = Date.now } = options;
  if (intervalMs <= 0) return reconcile;
  const nextPassAt = new Map<string, number>();
  return async (request, ctx) => {
    const key = keyOf(request);
    const wait = (nextPassAt.get(key) ?? 0) - now();
    if (wait > 0) return { requeueAfter: wait };
    const started = now();
    try {
      return await reconcile(request, ctx);
    } finally {
      const finished = now();
      const spacing = Math.max(intervalMs, Math.min(maxIntervalMs, shareFactor * (finished - started)));
      nextPassAt.set(key, finished + spacing);
      // Keys whose wait is over need no memory; keep the map as small as the keys in play.
      if (nextPassAt.size > 1_000) for (const [k, at] of nextPassAt) if (at <= finished) nextPassAt.delete(k);
    }
  };
}
