/**
 * What removing a deleted Machine still needs, decided from what is observed
 * (pure). In order: drain its Node (cordoned because the Machine is being
 * deleted), wait for the host's agent to stop and remove its software, delete
 * the Node, release the Machine. A host that is already gone (no Node, or a
 * Node that is not Ready: no kubelet to stop its pods, no agent to wait for)
 * is not drained or waited for; nor is a host whose agent never reported.
 */
import { isConditionTrue, isConditionTrueSince, isNodeReady, MachineConditions } from '@kok/api';
import type { Machine } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';

export type DecommissionStep =
  | { readonly kind: 'drain' }
  | { readonly kind: 'awaitAgent'; readonly message: string }
  | { readonly kind: 'deleteNode' }
  | { readonly kind: 'release' };

export function planDecommission(machine: Machine, node: V1Node | undefined): DecommissionStep {
  const conditions = machine.status?.conditions;
  if (!node) return { kind: 'release' };
  // A dead kubelet confirms no pod's end: evicted pods would hang Terminating. Deleting the Node lets the
  // pod garbage collector remove them, and their controllers start them elsewhere.
  if (!isNodeReady(node)) return { kind: 'deleteNode' };
  // A Drained condition left from an earlier drain (a rollout's) says nothing about the pods running now.
  const deleted = machine.metadata?.deletionTimestamp ?? new Date(0);
  if (!isConditionTrueSince(conditions, MachineConditions.Drained, deleted)) return { kind: 'drain' };
  // Only a host whose agent ever reported runs software kok installed.
  const hasAgent = machine.status?.agent !== undefined;
  if (hasAgent && !isConditionTrue(conditions, MachineConditions.Decommissioned))
    return {
      kind: 'awaitAgent',
      message:
        'drained; waiting for the node agent to stop and remove the host software (condition Decommissioned)',
    };
  return { kind: 'deleteNode' };
}
