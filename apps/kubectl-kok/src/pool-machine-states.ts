/**
 * The rollout planner's view of a pool's machines, read the way the
 * node-operator reads them (its machine-observation.ts): Machine spec and
 * status, the annotations the rollout keeps on the Machine, and the Node.
 * Only what the planner decides by is filled in; the words it quotes when a
 * deadline passes (progressBlocker, drainBlocker) are left out. Pure.
 */
import { findCondition, isConditionTrue, MachineConditions, needsDisruption } from '@kok/api';
import type { Machine, NodePool, NodePoolTemplate } from '@kok/api';
import type { MachineState } from '@kok/rollout';
import type { V1Node } from '@kubernetes/client-node';

/** Annotations the node-operator's rollout keeps on a Machine (its OperatorAnnotations). */
export const RolloutAnnotations = {
  /** The rollout cordoned the Node for this revision. */
  cordonedByRollout: 'nodes.kok.dev/cordoned-by-rollout',
  /** When the rollout cordoned it (RFC 3339). */
  drainStartedAt: 'nodes.kok.dev/drain-started-at',
  /** Every pod that had to leave is gone since the rollout's cordon. */
  drained: 'nodes.kok.dev/drained',
  /** `<revision>/<RFC 3339 time>`: when the rollout told the Machine that revision. */
  revisionAssigned: 'nodes.kok.dev/revision-assigned',
} as const;

/** The reason the agent gives on UpToDate when a component failed. */
const COMPONENT_FAILED = 'ComponentFailed';
/** NodeHealthy reasons that mean the Node is not Ready (or missing), as the node-operator writes them. */
const NODE_NOT_READY_REASONS: ReadonlySet<string> = new Set(['NodeNotReady', 'NodeMissing']);

/** When the rollout told the Machine its spec.revision, or undefined without a record for that revision. */
export function revisionAssignedAt(machine: Machine): number | undefined {
  const value = machine.metadata?.annotations?.[RolloutAnnotations.revisionAssigned];
  const revision = machine.spec?.revision;
  if (value === undefined || revision === undefined) return undefined;
  const slash = value.indexOf('/');
  if (slash < 0 || value.slice(0, slash) !== revision) return undefined;
  const at = Date.parse(value.slice(slash + 1));
  return Number.isNaN(at) ? undefined : at;
}

/**
 * One machine for the planner, moving to `target` under the pool's disruption
 * policy and health gates. With its Node, readiness, cordon, health gates and
 * Node labels come from it as the operator reads them; without (a view that
 * watches only Machines), from the NodeHealthy condition the operator copies
 * onto the Machine: Ready unless it says the Node is not Ready or missing.
 */
export function machineStateOf(
  machine: Machine,
  node: V1Node | undefined,
  pool: Pick<NodePool['spec'], 'disruptionPolicy' | 'rollout'>,
  target: NodePoolTemplate,
): MachineState {
  const annotations = machine.metadata?.annotations ?? {};
  const conditions = machine.status?.conditions;
  const upToDate = findCondition(conditions, MachineConditions.UpToDate);
  const failedComponents = (machine.status?.components ?? []).filter((c) => c.state === 'Failed');
  const failed =
    failedComponents.length > 0 || (upToDate?.status === 'False' && upToDate.reason === COMPONENT_FAILED);
  const cordonedByRollout = annotations[RolloutAnnotations.cordonedByRollout] !== undefined;
  const nodeHealthy = findCondition(conditions, MachineConditions.NodeHealthy);
  const nodeReady = node
    ? node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
    : !(nodeHealthy && nodeHealthy.status !== 'True' && NODE_NOT_READY_REASONS.has(nodeHealthy.reason));
  const state: MachineState = {
    name: machine.metadata?.name ?? '',
    labels: { ...(machine.metadata?.labels ?? {}), ...(node?.metadata?.labels ?? {}) },
    ready: nodeReady && isConditionTrue(conditions, MachineConditions.AgentReady),
    cordoned:
      (node ? node.spec?.unschedulable === true : machine.spec?.unschedulable === true) || cordonedByRollout,
    cordonedByRollout,
    drained: annotations[RolloutAnnotations.drained] !== undefined,
    underRemediation: isConditionTrue(conditions, MachineConditions.Remediating),
    needsDisruption: needsDisruption(machine.spec ?? {}, target, pool.disruptionPolicy),
  };
  if (machine.status?.revision?.current !== undefined)
    state.currentRevision = machine.status.revision.current;
  if (machine.spec?.revision !== undefined) state.desiredRevision = machine.spec.revision;
  if (failed) {
    const failedRevision = machine.status?.revision?.desired ?? machine.spec?.revision;
    if (failedRevision !== undefined) {
      state.failedRevision = failedRevision;
      state.failureMessage =
        failedComponents.length > 0
          ? failedComponents.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('; ')
          : upToDate?.message || 'a component failed';
    }
  }
  const finishedAt = upToDate?.status === 'True' ? Date.parse(upToDate.lastTransitionTime) : NaN;
  if (!Number.isNaN(finishedAt)) state.finishedAt = finishedAt;
  const gates = node ? unmetGates(node, pool.rollout?.healthGates ?? []) : [];
  if (gates.length > 0) state.unmetHealthGates = gates;
  if (cordonedByRollout) {
    const drainStartedAt = Date.parse(annotations[RolloutAnnotations.drainStartedAt] ?? '');
    if (!Number.isNaN(drainStartedAt)) state.drainStartedAt = drainStartedAt;
  }
  const startedAt = revisionAssignedAt(machine);
  if (startedAt !== undefined) state.startedAt = startedAt;
  return state;
}

/** The pool's health gates the Node does not meet (a condition it does not report does not meet its gate). */
function unmetGates(node: V1Node, gates: readonly { type: string; status: string }[]): string[] {
  return gates
    .filter((gate) => node.status?.conditions?.find((c) => c.type === gate.type)?.status !== gate.status)
    .map((gate) => `${gate.type}=${gate.status}`);
}
