/**
 * A deleted Machine is a host leaving the cluster. The node-operator cordons
 * and drains it; once its Drained condition is True (set since the delete),
 * the agent stops every service and removes every component (runtime and
 * kubelet included), what they keep (their dataPaths, mounts below them
 * unmounted first) and the files it wrote from the Machine spec (those
 * someone changed since stay), then says so with the Decommissioned
 * condition, after which the operator deletes the Node and lets the Machine
 * go. Until it is drained the host changes nothing: its kubelet must run to
 * stop the pods that are being evicted.
 */
import { isConditionTrue, isConditionTrueSince, MachineConditions } from '@kok/api/core';
import type { Machine } from '@kok/api';
import { dataPathRefusal } from './data-paths.ts';

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

export interface DataPathRemovals {
  /** Host paths to delete, each once, in the order given. */
  readonly remove: readonly { readonly component: string; readonly path: string }[];
  /** Host paths a component declared that stay, and why. */
  readonly kept: readonly { readonly component: string; readonly path: string; readonly reason: string }[];
}

/**
 * The dataPaths of every component the host ran, named by the spec now or
 * recorded in the inventory from before, less any that would take the
 * agent's own directories with it. Pure.
 */
export function dataPathRemovals(
  components: readonly { readonly name: string; readonly dataPaths?: readonly string[] | undefined }[],
  agentDirs: readonly string[],
): DataPathRemovals {
  const remove: { component: string; path: string }[] = [];
  const kept: { component: string; path: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const component of components) {
    for (const path of component.dataPaths ?? []) {
      if (seen.has(path)) continue;
      seen.add(path);
      const reason = dataPathRefusal(path, agentDirs);
      if (reason) kept.push({ component: component.name, path, reason });
      else remove.push({ component: component.name, path });
    }
  }
  return { remove, kept };
}
