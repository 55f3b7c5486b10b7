import type { Informer } from '@kok/reconcile';
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * True when the cache holds `written` or something newer. resourceVersions are
 * opaque by contract, but every etcd-backed apiserver issues increasing
 * integers; when either is not an integer only equality counts.
 */
export function isAtLeast(cached: string | undefined, written: string): boolean {
  if (cached === undefined) return false;
  if (cached === written) return true;
  if (/^\d+$/.test(cached) && /^\d+$/.test(written)) return BigInt(cached) >= BigInt(written);
  return false;
}

/**
 * Waits until the informer's cache has seen each written object (by name and
 * resourceVersion). The planner counts the disruption budget from the cache, so
 * planning again before the cache shows what was just written could start more
 * machines than the budget allows. Gives up quietly after `timeoutMs` (the
 * next reconcile then plans on whatever the cache holds, and writes carry
 * resourceVersion preconditions).
 */
export async function waitForCache<T extends KubernetesObject>(
  informer: Informer<T>,
  written: ReadonlyMap<string, string>,
  timeoutMs = 10_000,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let behind = false;
    for (const [name, rv] of written) {
      if (!isAtLeast(informer.getByName(undefined, name)?.metadata?.resourceVersion, rv)) {
        // A deleted object never shows up again; do not wait for it.
        behind = informer.getByName(undefined, name) !== undefined;
        if (behind) break;
      }
    }
    if (!behind) return true;
    if (Date.now() > deadline || signal?.aborted) return false;
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}
