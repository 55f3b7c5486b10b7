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
