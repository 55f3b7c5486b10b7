/**
 * A deleted Machine is a host leaving the cluster. The node-operator cordons
 * and drains it; once its Drained condition is True (set since the delete),
 * the agent stops every
 * service and removes every component (runtime and kubelet included), then
 * says so with the Decommissioned condition, after which the operator deletes
 * the Node and lets the Machine go. Until it is drained the host changes
 * nothing: its kubelet must run to stop the pods that are being evicted.
 */
import { isConditionTrue, isConditionTrueSince, MachineConditions } from '@kok/api/core';
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
  if (isConditionTrue(conditions, MachineConditions.Decommissioned)) return 'decommissioned';
  // A Drained condition left from an earlier drain (a rollout's) says nothing about the pods running now.
  return isConditionTrueSince(conditions, MachineConditions.Drained, machine.metadata.deletionTimestamp)
    ? 'decommission'
    : 'draining';
}
