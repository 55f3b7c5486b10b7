import type { Predicate } from '@kok/reconcile';
import type { V1Node } from '@kubernetes/client-node';

/**
 * What kok reads from a Node: labels, annotations, taints, cordon, and the
 * status and reason of each condition. Heartbeats (lastHeartbeatTime) change
 * none of it, so 10,000 kubelets reporting every few seconds enqueue nothing.
 */
export function nodeProjection(node: V1Node): string {
  return JSON.stringify([
    node.metadata?.uid,
    node.metadata?.labels ?? {},
    node.metadata?.annotations ?? {},
    node.spec?.taints ?? [],
    node.spec?.unschedulable === true,
    (node.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']),
  ]);
}

export const nodeChanged: Predicate<V1Node> = {
  update: (oldNode, newNode) => nodeProjection(oldNode) !== nodeProjection(newNode),
};
