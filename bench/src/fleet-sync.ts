// What node-scale calls synced, read from listings of the objects themselves rather than from the
// operator's reconcile counts (which count failed passes and miss items still waiting in the queue).
import { Finalizers, Labels, nodeAgentGrantName } from '@kok/api';
import type { KubernetesObject } from '@kubernetes/client-node';

/** The component-health condition the node-operator keeps on each Node. */
const COMPONENT_FAILED_CONDITION = 'KokComponentFailed';

interface Condition {
  type: string;
  status: string;
}

export interface ListedMachine extends KubernetesObject {
  spec?: { pool?: string };
  status?: { nodeRef?: { name?: string }; conditions?: Condition[] };
}

export interface ListedNode extends KubernetesObject {
  status?: { conditions?: Condition[] };
}

export interface FleetListing {
  machines: readonly ListedMachine[];
  nodes: readonly ListedNode[];
  /** The ClusterRoleBindings of the per-Machine agent grants. */
  grantBindings: readonly KubernetesObject[];
  /** status.machines of every NodePool. */
  poolMachines: readonly number[];
  /** status.expectedMachines of the RemediationPolicy. */
  policyExpectedMachines: number;
}

/** How many objects do not yet carry what adoption gives them; synced when every count is 0. */
export interface FleetLag {
  machinesWithoutFinalizer: number;
  machinesWithoutNodeRef: number;
  machinesWithoutNodeHealthy: number;
  nodesWithoutPoolLabel: number;
  nodesWithoutComponentCondition: number;
  machinesWithoutAgentGrant: number;
  /** Machines the pools' and the policy's status do not count yet (or count too many). */
  poolStatusShortfall: number;
  policyStatusShortfall: number;
}

const hasCondition = (conditions: readonly Condition[] | undefined, type: string, status: string) =>
  conditions?.some((c) => c.type === type && c.status === status) === true;

/**
 * Compares a listing of `expected` Machines (each with a Ready Node of its name) with what the
 * node-operator's first adoption writes: the Machine's finalizer, nodeRef and NodeHealthy, the
 * Node's pool label and KokComponentFailed=False, the agent grant bound to this very Machine, and
 * every Machine counted once in the status of its pool and of the policy.
 */
export function fleetLag(listing: FleetListing, expected: number): FleetLag {
  const nodes = new Map(listing.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const grantOwners = new Map(
    listing.grantBindings.map((b) => [b.metadata?.name ?? '', b.metadata?.ownerReferences?.[0]?.uid]),
  );
  const lag: FleetLag = {
    machinesWithoutFinalizer: 0,
    machinesWithoutNodeRef: 0,
    machinesWithoutNodeHealthy: 0,
    nodesWithoutPoolLabel: 0,
    nodesWithoutComponentCondition: 0,
    machinesWithoutAgentGrant: 0,
    poolStatusShortfall: Math.abs(expected - listing.poolMachines.reduce((a, b) => a + b, 0)),
    policyStatusShortfall: Math.abs(expected - listing.policyExpectedMachines),
  };
  // Machines missing from the listing lack everything.
  const missing = Math.max(0, expected - listing.machines.length);
  for (const key of Object.keys(lag) as (keyof FleetLag)[])
    if (key !== 'poolStatusShortfall' && key !== 'policyStatusShortfall') lag[key] += missing;
  for (const machine of listing.machines) {
    const name = machine.metadata?.name ?? '';
    if (!machine.metadata?.finalizers?.includes(Finalizers.machine)) lag.machinesWithoutFinalizer++;
    if (machine.status?.nodeRef?.name !== name) lag.machinesWithoutNodeRef++;
    if (!hasCondition(machine.status?.conditions, 'NodeHealthy', 'True')) lag.machinesWithoutNodeHealthy++;
    if (grantOwners.get(nodeAgentGrantName(name)) !== machine.metadata?.uid) lag.machinesWithoutAgentGrant++;
    const node = nodes.get(name);
    if (node?.metadata?.labels?.[Labels.pool] !== machine.spec?.pool) lag.nodesWithoutPoolLabel++;
    if (!hasCondition(node?.status?.conditions, COMPONENT_FAILED_CONDITION, 'False'))
      lag.nodesWithoutComponentCondition++;
  }
  return lag;
}

export function isSynced(lag: FleetLag): boolean {
  return Object.values(lag).every((count) => count === 0);
}
