/**
 * What removing a deleted Machine still needs, decided from what is observed
 * (pure). In order: drain its Node (cordoned because the Machine is being
 * deleted), wait for the host's agent to stop and remove its software, delete
 * the Node, release the Machine. A host that is already gone (no Node, or a
 * Node that is not Ready: no kubelet to stop its pods, no agent to wait for)
 * is not drained or waited for; nor is a host whose agent never reported.
 */
import { findCondition, MachineConditions } from '@kok/api';
import type { Machine } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';
import { isNodeReady } from './machine-observation.ts';

export type DecommissionStep =
  | { readonly kind: 'drain' }
  | { readonly kind: 'awaitAgent'; readonly message: string }
  | { readonly kind: 'deleteNode' }
  | { readonly kind: 'release' };

/**
 * Drained=True set at or after the delete (whole seconds, as the API keeps
 * them): a Drained condition left from an earlier drain says nothing about the
 * pods running now.
 */
export function drainedSinceDeletion(machine: Machine): boolean {
  const deleted = machine.metadata?.deletionTimestamp;
  const drained = findCondition(machine.status?.conditions, MachineConditions.Drained);
  if (!deleted || drained?.status !== 'True') return false;
  return Date.parse(drained.lastTransitionTime) >= Math.floor(new Date(deleted).getTime() / 1000) * 1000;
}

export function planDecommission(machine: Machine, node: V1Node | undefined): DecommissionStep {
  const conditions = machine.status?.conditions;
  if (!node) return { kind: 'release' };
  // A dead kubelet confirms no pod's end: evicted pods would hang Terminating. Deleting the Node lets the
  // pod garbage collector remove them, and their controllers start them elsewhere.
  if (!isNodeReady(node)) return { kind: 'deleteNode' };
  if (!drainedSinceDeletion(machine)) return { kind: 'drain' };
  // Only a host whose agent ever reported runs software kok installed.
  const hasAgent = machine.status?.agent !== undefined;
  if (hasAgent && findCondition(conditions, MachineConditions.Decommissioned)?.status !== 'True')
    return {
      kind: 'awaitAgent',
      message:
        'drained; waiting for the node agent to stop and remove the host software (condition Decommissioned)',
    };
  return { kind: 'deleteNode' };
}
