import { machineRolloutState } from '@kok/api';
import type { DisruptionPolicy, HealthGate, Machine, NodePool, NodePoolTemplate } from '@kok/api';
import type { MachineState } from '@kok/rollout';
import type { V1Node } from '@kubernetes/client-node';

/**
 * What the planner needs to know about one machine, from its Machine and its
 * Node, read as @kok/api's machineRolloutState reads it (kubectl kok's previews
 * read the fleet the same way). Pure.
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
  const state: MachineState = machineRolloutState(machine, node, { target, policy, healthGates });
  if (cacheable) {
    Object.freeze(state.labels);
    if (state.unmetHealthGates) Object.freeze(state.unmetHealthGates);
    stateMemo.set(machine, { node, target, policy, gates: healthGates, state: Object.freeze(state) });
  }
  return state;
}

/**
 * machineStateFor against `pool`'s template, disruption policy and health gates: the rollout and the
 * remediation controller count a pool's budget from the same states.
 */
export function machineStateInPool(machine: Machine, node: V1Node | undefined, pool: NodePool): MachineState {
  const { template, disruptionPolicy, rollout } = pool.spec;
  return machineStateFor(machine, node, template, disruptionPolicy, rollout?.healthGates);
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
