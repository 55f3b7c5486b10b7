import { findCondition, MachineConditions, setCondition } from '@kok/api';
import type { Condition, ConditionUpdate, Machine } from '@kok/api';
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import { COMPONENT_FAILED_CONDITION } from './agent-node-condition.ts';
import { machinePhase, type MachinePhase } from './machine-phase.ts';

/** Conditions every kubelet reports; anything else on a Node comes from a problem detector. */
const KUBELET_CONDITIONS = new Set([
  'Ready',
  'MemoryPressure',
  'DiskPressure',
  'PIDPressure',
  'NetworkUnavailable',
]);

/** Problem-detector conditions mirrored per Machine, so a noisy detector cannot fill its 32 conditions. */
export const MAX_MIRRORED_CONDITIONS = 12;

/** The Machine condition type mirroring a Node condition, e.g. KernelDeadlock → NodeKernelDeadlock. */
export const mirroredType = (nodeConditionType: string): string => `Node${nodeConditionType}`;

/** What the node-operator writes into Machine.status (server-side apply, its own field manager). */
export interface MachineNodeStatus {
  nodeRef?: { name: string; uid?: string };
  conditions: Condition[];
  phase: MachinePhase;
}

/**
 * Machine.status from its Node: nodeRef, NodeHealthy (Ready and no pressure or
 * problem reported), each problem-detector condition mirrored as Node<Type>,
 * and the phase (machine-phase.ts). lastTransitionTime carries over from the Machine when a status
 * does not change. Pure.
 */
export function machineNodeStatus(machine: Machine, node: V1Node | undefined, now: Date): MachineNodeStatus {
  const current = machine.status?.conditions;
  const healthy = nodeHealthy(node);
  const updates: ConditionUpdate[] = [healthy];
  const problemConditions = (node?.status?.conditions ?? [])
    // KokComponentFailed is made from this Machine's own status: mirroring it back would only echo it.
    .filter((c) => !KUBELET_CONDITIONS.has(c.type) && c.type !== COMPONENT_FAILED_CONDITION)
    .sort((a, b) => a.type.localeCompare(b.type))
    .slice(0, MAX_MIRRORED_CONDITIONS);
  for (const c of problemConditions) {
    updates.push({
      type: mirroredType(c.type),
      status: conditionStatus(c.status),
      reason: c.reason || 'NodeCondition',
      message: c.message ?? '',
    });
  }
  const conditions = updates.map((update) => {
    const next = setCondition(current, update, now);
    return findCondition(next, update.type) as Condition;
  });
  const status: MachineNodeStatus = { conditions, phase: machinePhase(machine, healthy) };
  if (node?.metadata?.name)
    status.nodeRef = { name: node.metadata.name, ...(node.metadata.uid ? { uid: node.metadata.uid } : {}) };
  return status;
}

function nodeHealthy(node: V1Node | undefined): ConditionUpdate {
  const type = MachineConditions.NodeHealthy;
  if (!node) return { type, status: 'False', reason: 'NodeMissing', message: 'no Node with this name' };
  const conditions = node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    return {
      type,
      status: ready?.status === 'False' ? 'False' : 'Unknown',
      reason: 'NodeNotReady',
      message: ready
        ? `Ready is ${ready.status}: ${ready.message ?? ready.reason ?? ''}`.trim()
        : 'the kubelet has not reported Ready',
    };
  }
  const problems = conditions.filter((c: V1NodeCondition) => c.type !== 'Ready' && c.status === 'True');
  if (problems.length > 0) {
    return {
      type,
      status: 'False',
      reason: 'NodeProblem',
      message: problems.map((c) => `${c.type}${c.message ? `: ${c.message}` : ''}`).join('; '),
    };
  }
  return { type, status: 'True', reason: 'NodeReady', message: '' };
}

function conditionStatus(status: string): Condition['status'] {
  return status === 'True' || status === 'False' ? status : 'Unknown';
}

/** True when applying `next` would change what the Machine already shows. */
export function machineNodeStatusChanged(machine: Machine, next: MachineNodeStatus): boolean {
  const ref = machine.status?.nodeRef;
  if (machine.status?.phase !== next.phase) return true;
  if ((ref?.name ?? '') !== (next.nodeRef?.name ?? '') || (ref?.uid ?? '') !== (next.nodeRef?.uid ?? ''))
    return true;
  const current = machine.status?.conditions ?? [];
  // NodeHealthy and the Node<Type> mirrors are all this controller's, and only they start with "Node".
  const mine = current.filter((c) => c.type.startsWith('Node'));
  if (mine.length !== next.conditions.length) return true;
  return next.conditions.some((c) => {
    const existing = findCondition(current, c.type);
    return (
      !existing ||
      existing.status !== c.status ||
      existing.reason !== c.reason ||
      existing.message !== c.message
    );
  });
}
