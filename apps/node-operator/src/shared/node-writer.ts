import type { Machine } from '@kok/api';
import { builtinTypes, PatchType } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';
import type { V1Node } from '@kubernetes/client-node';
import { desiredNodeFor, nodePatchFor } from './node-sync.ts';

/** Brings the Node to what its Machine asks (kok-owned keys only); returns the Node as written, or as it was. */
export async function syncNode(client: KubeClient, machine: Machine, node: V1Node): Promise<V1Node> {
  const patch = nodePatchFor(node, desiredNodeFor(machine));
  if (!patch) return node;
  return client.patch(builtinTypes.node, { name: node.metadata?.name ?? '' }, PatchType.merge, patch);
}

/** Runs `work` on every item, at most `limit` at once; the first failure rejects after the others settle. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
