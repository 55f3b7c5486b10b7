import type { KubernetesObject } from '@kubernetes/client-node';

/** Rewrites an object before the informer caches it; it may mutate and return its argument. */
export type Transform<T extends KubernetesObject> = (obj: T) => T;

/**
 * The default: drops metadata.managedFields from everything and status.images
 * from Nodes — together most of a watch cache's memory at 10k nodes, and
 * nothing a controller reads.
 */
export function trimForCache<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  if (obj.kind === 'Node') {
    const status = (obj as { status?: { images?: unknown } }).status;
    if (status) delete status.images;
  }
  return obj;
}

/** Freezes `value` and everything reachable from it, so cached objects cannot be changed by a handler. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
