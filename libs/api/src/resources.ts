/**
 * Every kind this API defines, in the order the CRDs are generated.
 */
import { ClusterRolloutResource } from './cluster-rollout.ts';
import { ClusterResource } from './cluster.ts';
import { ComponentResource } from './component.ts';
import { MachineResource } from './machine.ts';
import { NodePoolResource } from './node-pool.ts';
import { RemediationPolicyResource } from './remediation-policy.ts';
import type { ResourceDefinition } from './resource.ts';

export const RESOURCES = {
  Machine: MachineResource,
  NodePool: NodePoolResource,
  Component: ComponentResource,
  RemediationPolicy: RemediationPolicyResource,
  Cluster: ClusterResource,
  ClusterRollout: ClusterRolloutResource,
} as const satisfies Record<string, ResourceDefinition>;

export type KindName = keyof typeof RESOURCES;

export const ALL_RESOURCES: readonly ResourceDefinition[] = Object.values(RESOURCES);

export function isKindName(kind: string): kind is KindName {
  return Object.hasOwn(RESOURCES, kind);
}
