/**
 * A deleted Machine is a host leaving the cluster. The node-operator cordons
 * and drains it; once its Drained condition is True (set since the delete),
 * the agent stops every
 * service and removes every component (runtime and kubelet included), then
 * says so with the Decommissioned condition, after which the operator deletes
 * the Node and lets the Machine go. Until it is drained the host changes
 * nothing: its kubelet must run to stop the pods that are being evicted.
 */
import { findCondition, MachineConditions } from '@kok/api';
import type { Machine } from '@kok/api';

export type DecommissionPhase =
  /** Not deleted: converge as usual. */
  | 'member'
  /** Deleted, pods still leaving: change nothing. */
  | 'draining'
  /** Deleted and drained: stop and remove everything, then report. */
  | 'decommission'
  /** Reported: nothing left to do. */
  | 'decommissioned';

export function decommissionPhase(machine: Machine): DecommissionPhase {
  if (!machine.metadata?.deletionTimestamp) return 'member';
  const conditions = machine.status?.conditions;
  if (findCondition(conditions, MachineConditions.Decommissioned)?.status === 'True') return 'decommissioned';
  return drainedSince(machine, machine.metadata.deletionTimestamp) ? 'decommission' : 'draining';
}

/**
 * Drained=True set at or after `since`: a Drained condition left from an
 * earlier drain (a rollout's) says nothing about the pods running now.
 */
export function drainedSince(machine: Machine, since: string | Date): boolean {
  const drained = findCondition(machine.status?.conditions, MachineConditions.Drained);
  // Both times have whole seconds: a drain finished in the second of the delete counts.
  const floor = Math.floor(new Date(since).getTime() / 1000) * 1000;
  return drained?.status === 'True' && Date.parse(drained.lastTransitionTime) >= floor;
}
