/**
 * What the node agent says about the software it runs, as a condition on the
 * Node: pure. It follows node-problem-detector's polarity (True is a problem),
 * so everything that reads Node conditions — NodeHealthy and with it rollout
 * health gates, RemediationPolicies (matching it on the Node; it is not mirrored
 * back onto the Machine, whose own status it is made from),
 * `kubectl describe node` — sees a failed kubelet, runtime or daemon the same
 * way it sees a kernel deadlock.
 */
import { findCondition, MachineConditions } from '@kok/api';
import type { Machine } from '@kok/api';
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';

export const COMPONENT_FAILED_CONDITION = 'KokComponentFailed';

export interface AgentNodeCondition {
  type: typeof COMPONENT_FAILED_CONDITION;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** True when a component is Failed; Unknown while the agent is not reporting; False otherwise. */
export function agentNodeCondition(machine: Machine): AgentNodeCondition {
  const type = COMPONENT_FAILED_CONDITION;
  const agentReady = findCondition(machine.status?.conditions, MachineConditions.AgentReady);
  if (agentReady?.status !== 'True')
    return {
      type,
      status: 'Unknown',
      reason: 'AgentNotReporting',
      message: agentReady?.message
        ? `the node agent is not ready: ${agentReady.message}`
        : 'the node agent has not reported',
    };
  const components = machine.status?.components ?? [];
  const failed = components.filter((c) => c.state === 'Failed');
  if (failed.length > 0)
    return {
      type,
      status: 'True',
      reason: 'ComponentFailed',
      message: failed
        .map((c) => `${c.name} ${c.version ?? ''}`.trim() + (c.message ? `: ${c.message}` : ''))
        .join('; '),
    };
  return {
    type,
    status: 'False',
    reason: 'ComponentsHealthy',
    message: `no component failed (${components.map((c) => c.name).join(', ') || 'none installed'})`,
  };
}

/**
 * The strategic merge patch of the Node's status that sets `desired`, or
 * undefined when the Node says so already. lastTransitionTime moves only when
 * the status does.
 */
export function agentNodeConditionPatch(
  node: V1Node,
  desired: AgentNodeCondition,
  now: Date,
): { status: { conditions: V1NodeCondition[] } } | undefined {
  const current = node.status?.conditions?.find((c) => c.type === desired.type);
  if (
    current?.status === desired.status &&
    current.reason === desired.reason &&
    (current.message ?? '') === desired.message
  )
    return undefined;
  const transition = current?.status === desired.status ? current.lastTransitionTime : undefined;
  return {
    status: {
      conditions: [{ ...desired, lastHeartbeatTime: now, lastTransitionTime: transition ?? now }],
    },
  };
}
