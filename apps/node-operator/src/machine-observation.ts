import { findCondition, isConditionTrue, MachineConditions, needsDisruption } from '@kok/api';
import type { DisruptionPolicy, HealthGate, Machine, NodePoolTemplate } from '@kok/api';
import type { MachineState } from '@kok/rollout';
import type { V1Node } from '@kubernetes/client-node';
import { describeUnmetHealthGate, unmetHealthGates } from './health-gates.ts';
import type { UnmetHealthGate } from './health-gates.ts';
import { revisionAssignedAt } from './machine-patches.ts';
import { OperatorAnnotations } from './resources.ts';

/** The reason the agent gives on UpToDate when a component failed at the desired revision. */
const COMPONENT_FAILED = 'ComponentFailed';

export function isNodeReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/**
 * What the planner needs to know about one machine, from its Machine (spec,
 * the agent's status, the operator's annotations) and its Node. Pure.
 *
 * - ready: the Node exists and is Ready and the agent says AgentReady.
 * - unmetHealthGates: the pool's rollout.healthGates the Node's conditions do
 *   not meet (a missing condition does not meet its gate).
 * - cordoned: the Node is unschedulable, or the rollout has decided to cordon
 *   it (annotation written, Node not patched yet): either way it is disrupted.
 * - failed: a component reports Failed, or UpToDate is False for ComponentFailed;
 *   the failure is at the revision the agent was converging to.
 * - startedAt: when the rollout told it spec.revision (its annotation), for the
 *   progress deadline; progressBlocker: why it is not healthy there yet.
 * - drainStartedAt: when the rollout cordoned it (its annotation), for the drain
 *   timeout; drainBlocker: what the drain waits for (the Drained condition).
 */
export function machineStateFor(
  machine: Machine,
  node: V1Node | undefined,
  target: NodePoolTemplate,
  policy: DisruptionPolicy | undefined,
  healthGates?: readonly HealthGate[],
): MachineState {
  // Objects from the caches are deeply frozen and replaced on every change, so a state computed from the
  // same five objects is still right: a pass over 10,000 machines recomputes only the ones that changed.
  const cacheable = Object.isFrozen(machine) && (node === undefined || Object.isFrozen(node));
  const hit = cacheable ? stateMemo.get(machine) : undefined;
  if (hit && hit.node === node && hit.target === target && hit.policy === policy && hit.gates === healthGates)
    return hit.state;
  const state = computeMachineState(machine, node, target, policy, healthGates);
  if (cacheable) {
    Object.freeze(state.labels);
    if (state.unmetHealthGates) Object.freeze(state.unmetHealthGates);
    stateMemo.set(machine, { node, target, policy, gates: healthGates, state: Object.freeze(state) });
  }
  return state;
}

const stateMemo = new WeakMap<
  Machine,
  {
    node: V1Node | undefined;
    target: NodePoolTemplate;
    policy: DisruptionPolicy | undefined;
    gates: readonly HealthGate[] | undefined;
    state: MachineState;
  }
>();

function computeMachineState(
  machine: Machine,
  node: V1Node | undefined,
  target: NodePoolTemplate,
  policy: DisruptionPolicy | undefined,
  healthGates: readonly HealthGate[] | undefined,
): MachineState {
  const annotations = machine.metadata?.annotations ?? {};
  const conditions = machine.status?.conditions;
  const upToDate = findCondition(conditions, MachineConditions.UpToDate);
  const failedComponents = (machine.status?.components ?? []).filter((c) => c.state === 'Failed');
  const failed =
    failedComponents.length > 0 || (upToDate?.status === 'False' && upToDate.reason === COMPONENT_FAILED);
  const failedRevision = failed ? (machine.status?.revision?.desired ?? machine.spec?.revision) : undefined;
  const cordonedByRollout = annotations[OperatorAnnotations.cordonedByRollout] !== undefined;
  const finishedAt = upToDate?.status === 'True' ? Date.parse(upToDate.lastTransitionTime) : undefined;
  // Without a Node there is nothing to judge; `ready` is false already.
  const unmetGates = node ? unmetHealthGates(node, healthGates) : [];

  const state: MachineState = {
    name: machine.metadata?.name ?? '',
    labels: { ...(machine.metadata?.labels ?? {}), ...(node?.metadata?.labels ?? {}) },
    ready: isNodeReady(node) && isConditionTrue(conditions, MachineConditions.AgentReady),
    cordoned: node?.spec?.unschedulable === true || cordonedByRollout,
    cordonedByRollout,
    drained: annotations[OperatorAnnotations.drained] !== undefined,
    underRemediation: isConditionTrue(conditions, MachineConditions.Remediating),
    needsDisruption: needsDisruption(machine.spec ?? {}, target, policy),
  };
  if (machine.status?.revision?.current !== undefined)
    state.currentRevision = machine.status.revision.current;
  if (machine.spec?.revision !== undefined) state.desiredRevision = machine.spec.revision;
  if (failedRevision !== undefined) {
    state.failedRevision = failedRevision;
    state.failureMessage =
      failedComponents.length > 0
        ? failedComponents.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('; ')
        : upToDate?.message || 'a component failed';
  }
  if (finishedAt !== undefined && !Number.isNaN(finishedAt)) state.finishedAt = finishedAt;
  if (unmetGates.length > 0) state.unmetHealthGates = unmetGates.map((unmet) => unmet.gate);
  if (cordonedByRollout) {
    const drainStartedAt = Date.parse(annotations[OperatorAnnotations.drainStartedAt] ?? '');
    if (!Number.isNaN(drainStartedAt)) state.drainStartedAt = drainStartedAt;
    const drainedCondition = findCondition(conditions, MachineConditions.Drained);
    if (drainedCondition?.status === 'False' && drainedCondition.message)
      state.drainBlocker = drainedCondition.message;
  }
  const startedAt = revisionAssignedAt(
    annotations[OperatorAnnotations.revisionAssigned],
    machine.spec?.revision,
  );
  if (startedAt !== undefined) state.startedAt = startedAt;
  const blocker = progressBlocker(machine, node, unmetGates);
  if (blocker !== undefined) state.progressBlocker = blocker;
  return state;
}

/**
 * Why the machine is not healthy at spec.revision, in the Node's and the agent's
 * words (e.g. "AgentReady False VersionNotFound: …", "Node NotReady", "health
 * gate KernelDeadlock=False not met: …"), or undefined when nothing is in the way.
 */
export function progressBlocker(
  machine: Machine,
  node: V1Node | undefined,
  unmetGates: readonly UnmetHealthGate[] = [],
): string | undefined {
  const conditions = machine.status?.conditions;
  const blockers: string[] = [];
  if (!node) blockers.push('no Node');
  else if (!isNodeReady(node)) {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    blockers.push(ready?.reason ? `Node NotReady (${ready.reason})` : 'Node NotReady');
  }
  blockers.push(...unmetGates.map(describeUnmetHealthGate));
  const agentReady = findCondition(conditions, MachineConditions.AgentReady);
  const upToDate = findCondition(conditions, MachineConditions.UpToDate);
  const desired = machine.spec?.revision;
  const current = machine.status?.revision?.current;
  if (!agentReady) blockers.push('the agent has not reported');
  else if (agentReady.status !== 'True') blockers.push(describeCondition(agentReady));
  else if (upToDate && upToDate.status !== 'True') blockers.push(describeCondition(upToDate));
  else if (desired !== undefined && current !== desired)
    blockers.push(`the agent reports revision ${current ?? '(none)'}`);
  return blockers.length > 0 ? blockers.join('; ') : undefined;
}

function describeCondition(condition: {
  type: string;
  status: string;
  reason: string;
  message: string;
}): string {
  const head = `${condition.type} ${condition.status} ${condition.reason}`;
  return condition.message ? `${head}: ${condition.message}` : head;
}
