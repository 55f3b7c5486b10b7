import type { HealthGate } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';

/** One gate of the pool that a Node does not meet, in the Node's words. */
export interface UnmetHealthGate {
  /** `KernelDeadlock=False`: the gate, as messages name it. */
  gate: string;
  /** Why it is not met, e.g. `Node condition KernelDeadlock is True (DockerHung: task docker:7 blocked)`. */
  detail: string;
}

/**
 * The gates `node` does not meet, in the order the pool lists them. A condition
 * the Node does not report does not meet its gate: a detector that has not
 * spoken (or was never installed) proves nothing healthy. Pure.
 */
export function unmetHealthGates(node: V1Node, gates: readonly HealthGate[] | undefined): UnmetHealthGate[] {
  const unmet: UnmetHealthGate[] = [];
  for (const gate of gates ?? []) {
    const condition = node.status?.conditions?.find((c) => c.type === gate.type);
    if (condition?.status === gate.status) continue;
    let detail = `the Node has no ${gate.type} condition`;
    if (condition) {
      const why = [condition.reason, condition.message].filter((part) => part).join(': ');
      detail = `Node condition ${gate.type} is ${condition.status}${why ? ` (${why})` : ''}`;
    }
    unmet.push({ gate: `${gate.type}=${gate.status}`, detail });
  }
  return unmet;
}

/** `health gate KernelDeadlock=False not met: Node condition KernelDeadlock is True (DockerHung: …)`. */
export function describeUnmetHealthGate(unmet: UnmetHealthGate): string {
  return `health gate ${unmet.gate} not met: ${unmet.detail}`;
}
