import { requeueAt } from '@kok/reconcile';

/** While a drain waits on evictions, look again this often (a PDB's 429 clears on its own time). */
export const DRAIN_RETRY_MS = 1_000;

/** The ms to wait until a plan's `wakeAt` (ms since the epoch), or undefined when it asked for none. */
export function untilWake(wakeAt: number | undefined, now: number): number | undefined {
  return wakeAt === undefined ? undefined : requeueAt(wakeAt, now).requeueAfter;
}

/** Reconcile again after the shortest of the waits asked for, or not at all when none was. */
export function soonest(...waits: (number | undefined)[]): { requeueAfter: number } | undefined {
  const asked = waits.filter((wait) => wait !== undefined);
  return asked.length > 0 ? { requeueAfter: Math.min(...asked) } : undefined;
}
